// Webhooks from the built-in fake gateway (src/adapters/payment-gateway/fake-payment-gateway.ts),
// which has no server to send them: settle one of its payments as the gateway would on
// its side, and build the signed POST /webhooks/payments request that announces it.
import { sharedFakeGatewayState, type FakeGatewayState } from '../../src/adapters/payment-gateway/fake-payment-gateway';
import { paymentEvent, signedWebhookRequest, type PaymentEvent, type PaymentEventType, type SignedRequest } from './sandbox-webhooks';

/** The fake gateway's payment for `depositId` becomes final (what a later status query answers). */
export const settleFakePayment = (depositId: string, status: 'succeeded' | 'declined', state: FakeGatewayState = sharedFakeGatewayState()): void => {
  const payment = state.payments.get(depositId);
  if (!payment) throw new Error(`the fake gateway has no payment for deposit ${depositId}`);
  payment.status = status;
};

export interface FakeWebhook extends SignedRequest {
  event: PaymentEvent;
}

/**
 * A signed webhook request about a deposit: `payment.succeeded` unless told otherwise.
 * `event` re-sends an earlier event (a duplicate); `t` and `signature` bend the signing.
 */
export const fakeGatewayWebhook = (
  secret: string,
  depositId: string,
  opts: { type?: PaymentEventType; event?: PaymentEvent; t?: number; signature?: string } = {},
): FakeWebhook => {
  const paymentRef = sharedFakeGatewayState().payments.get(depositId)?.paymentRef;
  const event = opts.event ?? paymentEvent(opts.type ?? 'payment.succeeded', { depositId, ...(paymentRef !== undefined && { paymentRef }) });
  return { event, ...signedWebhookRequest(secret, event, { ...(opts.t !== undefined && { t: opts.t }), ...(opts.signature !== undefined && { signature: opts.signature }) }) };
};
