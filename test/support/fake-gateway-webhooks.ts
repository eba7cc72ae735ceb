// Webhooks from the built-in fake gateway (src/adapters/payment-gateway/fake-payment-gateway.ts),
// which has no server to send them: settle one of its payments or refunds as the gateway
// would on its side, and build the signed POST /webhooks/payments request that announces it.
import { sharedFakeGatewayState, type FakeGatewayState } from '../../src/adapters/payment-gateway/fake-payment-gateway';
import { paymentEvent, signedWebhookRequest, type PaymentEvent, type PaymentEventType, type SignedRequest } from './sandbox-webhooks';

/** The fake gateway's payment for `depositId` becomes final (what a later status query answers). */
export const settleFakePayment = (depositId: string, status: 'succeeded' | 'declined', state: FakeGatewayState = sharedFakeGatewayState()): void => {
  const payment = state.payments.get(depositId);
  if (!payment) throw new Error(`the fake gateway has no payment for deposit ${depositId}`);
  payment.status = status;
};

/** The fake gateway's refund `refundId` (our refund id) becomes final (what a later status query answers). */
export const settleFakeRefund = (refundId: string, status: 'succeeded' | 'declined', state: FakeGatewayState = sharedFakeGatewayState()): void => {
  const refund = state.refunds.get(refundId);
  if (!refund) throw new Error(`the fake gateway has no refund ${refundId}`);
  refund.status = status;
};

export interface FakeWebhook extends SignedRequest {
  event: PaymentEvent;
}

interface WebhookOptions {
  type?: PaymentEventType;
  event?: PaymentEvent;
  t?: number;
  signature?: string;
}

const signedFake = (secret: string, event: PaymentEvent, { t, signature }: WebhookOptions): FakeWebhook =>
  ({ event, ...signedWebhookRequest(secret, event, { t, signature }) });

/**
 * A signed webhook request about a deposit: `payment.succeeded` unless told otherwise.
 * `event` re-sends an earlier event (a duplicate); `t` and `signature` bend the signing.
 */
export const fakeGatewayWebhook = (secret: string, depositId: string, opts: WebhookOptions = {}): FakeWebhook => {
  const paymentRef = sharedFakeGatewayState().payments.get(depositId)?.paymentRef;
  return signedFake(secret, opts.event ?? paymentEvent(opts.type ?? 'payment.succeeded', { depositId, ...(paymentRef !== undefined && { paymentRef }) }), opts);
};

/** The same about a deposit refund (`refundId`: our refund id): `refund.succeeded` unless told otherwise. */
export const fakeGatewayRefundWebhook = (secret: string, refundId: string, opts: WebhookOptions = {}): FakeWebhook => {
  const paymentRef = sharedFakeGatewayState().refunds.get(refundId)?.paymentRef;
  return signedFake(secret, opts.event ?? paymentEvent(opts.type ?? 'refund.succeeded', { refundId, ...(paymentRef !== undefined && { paymentRef }) }), opts);
};
