import type { ChargeRequest, PaymentGateway, PaymentResult } from '../../core/ports';

/**
 * The built-in sandbox gateway: `tok_ok` succeeds, `tok_pending` stays pending
 * until polled once, `tok_declined` (and any unknown token) is declined.
 * Charges are idempotent by deposit id, like the real gateway's Idempotency-Key.
 */
export interface FakeGatewayState {
  payments: Map<string, PaymentResult & { charged: number; request: ChargeRequest }>;
}

const SHARED = Symbol.for('wallet-service.fake-gateway-state');
export const sharedFakeGatewayState = (): FakeGatewayState => {
  const g = globalThis as { [SHARED]?: FakeGatewayState };
  return (g[SHARED] ??= { payments: new Map() });
};

export const makeFakePaymentGateway = (state: FakeGatewayState = { payments: new Map() }): PaymentGateway => ({
  async charge(req) {
    const existing = state.payments.get(req.depositId);
    if (existing) return { status: existing.status, paymentRef: existing.paymentRef };
    const status = req.paymentToken === 'tok_ok' ? 'succeeded' : req.paymentToken === 'tok_pending' ? 'pending' : 'declined';
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
});
