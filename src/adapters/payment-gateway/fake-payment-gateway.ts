import type { ChargeRequest, PaymentGateway, PaymentResult, RefundRequest } from '../../core/ports';

/**
 * The built-in sandbox gateway: `tok_ok` succeeds, `tok_pending` stays pending
 * until polled once, `tok_declined` (and any unknown token) is declined.
 * `tok_refund_pending` and `tok_refund_declined` charge like `tok_ok`; refunds of
 * such a deposit stay pending until polled once, or are declined. Charges are
 * idempotent by deposit id and refunds by refund id, like the real gateway's Idempotency-Key.
 */
export interface FakeGatewayState {
  payments: Map<string, PaymentResult & { charged: number; request: ChargeRequest }>;
  /** By refund id. `refunded`: what it gives back (0 when declined). */
  refunds: Map<string, PaymentResult & { refunded: number; request: RefundRequest }>;
}

export const newFakeGatewayState = (): FakeGatewayState => ({ payments: new Map(), refunds: new Map() });

const SHARED = Symbol.for('wallet-service.fake-gateway-state');
export const sharedFakeGatewayState = (): FakeGatewayState => {
  const g = globalThis as { [SHARED]?: Partial<FakeGatewayState> & Pick<FakeGatewayState, 'payments'> };
  const state = (g[SHARED] ??= newFakeGatewayState());
  state.refunds ??= new Map(); // a state made before refunds existed (a hot reload)
  return state as FakeGatewayState;
};

const CHARGE_SUCCEEDS = new Set(['tok_ok', 'tok_refund_pending', 'tok_refund_declined']);

/** What a new refund of `req` comes to: the payment must have succeeded and still hold the amount. */
const refundStatus = (state: FakeGatewayState, req: RefundRequest): PaymentResult['status'] => {
  const payment = state.payments.get(req.depositId);
  if (!payment || payment.status !== 'succeeded' || (req.paymentRef !== undefined && req.paymentRef !== payment.paymentRef)) return 'declined';
  if (payment.request.currency !== req.currency) return 'declined';
  let refunded = 0;
  for (const r of state.refunds.values()) if (r.request.depositId === req.depositId) refunded += r.refunded;
  if (refunded + req.amount > payment.charged) return 'declined';
  const token = payment.request.paymentToken;
  return token === 'tok_refund_declined' ? 'declined' : token === 'tok_refund_pending' ? 'pending' : 'succeeded';
};

export const makeFakePaymentGateway = (state: FakeGatewayState = newFakeGatewayState()): PaymentGateway => ({
  async charge(req) {
    const existing = state.payments.get(req.depositId);
    if (existing) return { status: existing.status, paymentRef: existing.paymentRef };
    const status = CHARGE_SUCCEEDS.has(req.paymentToken) ? 'succeeded' : req.paymentToken === 'tok_pending' ? 'pending' : 'declined';
    const payment = { status, paymentRef: `pay_${req.depositId}`, charged: status === 'declined' ? 0 : req.amount, request: req } as const;
    state.payments.set(req.depositId, { ...payment });
    return { status, paymentRef: payment.paymentRef };
  },
  async getPaymentStatus({ depositId }) {
    const p = state.payments.get(depositId);
    if (!p) return null;
    if (p.status === 'pending') p.status = 'succeeded'; // settles on its first status poll
    return { status: p.status, paymentRef: p.paymentRef };
  },
  async refund(req) {
    const existing = state.refunds.get(req.refundId);
    if (existing) return { status: existing.status, paymentRef: existing.paymentRef };
    const status = refundStatus(state, req);
    const paymentRef = `re_${req.refundId}`;
    state.refunds.set(req.refundId, { status, paymentRef, refunded: status === 'declined' ? 0 : req.amount, request: req });
    return { status, paymentRef };
  },
  async getRefundStatus({ refundId }) {
    const r = state.refunds.get(refundId);
    if (!r) return null;
    if (r.status === 'pending') r.status = 'succeeded'; // settles on its first status poll
    return { status: r.status, paymentRef: r.paymentRef };
  },
});
