// A payment gateway's signed event (POST /webhooks/payments), already verified. The
// body is only a hint of WHICH transaction to look at: its status comes from asking
// the gateway, and settling is the shared settle-from-gateway step.
//
// Why no record of event ids (e.g. in the idempotency store): the transaction's own
// state already makes a repeat cheap. A duplicate or late event for a settled
// transaction costs one read — no gateway call, no write — and an unknown id one read.
// A record would add two writes (claim, outcome) to every first delivery, the common
// case, to save that one read on repeats; and it could not save the gateway call for
// a transaction still pending, because a later delivery is exactly when that call
// may find it settled.
import { PaymentGatewayError, ServiceUnavailable } from '../errors';
import { isTransactionId, type TransactionStatus } from '../transaction';
import type { Deps } from './deps';
import { makeSettleFromGateway, type Settlement } from './settle-from-gateway';

/** Each event type the gateway sends, and the type of transaction it is about. */
const TARGET_TYPE = {
  'payment.succeeded': 'deposit',
  'payment.failed': 'deposit',
  'refund.succeeded': 'refund',
  'refund.failed': 'refund',
} as const;
export type PaymentWebhookType = keyof typeof TARGET_TYPE;
export const PAYMENT_WEBHOOK_TYPES = Object.keys(TARGET_TYPE) as PaymentWebhookType[];

/** What the HTTP layer read from the event body; any field may be missing or unusable. */
export interface PaymentWebhookEvent {
  /** The gateway's event id, for the log. */
  id?: string;
  type?: string;
  depositId?: string;
  refundId?: string;
}

export type WebhookOutcome =
  | { outcome: Settlement['outcome']; transactionId: string; status: TransactionStatus }
  | { outcome: 'ignored'; reason: 'unknown_type' | 'unusable_data' | 'unknown_transaction' | 'wrong_type' };

/** Which transaction an event names, and of what type it must be. */
const targetOf = (event: PaymentWebhookEvent): { id: string; type: string } | WebhookOutcome => {
  if (event.type === undefined || !Object.hasOwn(TARGET_TYPE, event.type)) return { outcome: 'ignored', reason: 'unknown_type' };
  const type = TARGET_TYPE[event.type as PaymentWebhookType];
  const id = type === 'deposit' ? event.depositId : event.refundId;
  // A malformed id names nothing we could have stored: no read needed.
  return isTransactionId(id) ? { id, type } : { outcome: 'ignored', reason: 'unusable_data' };
};

export const makeHandlePaymentWebhook = (deps: Pick<Deps, 'ledger' | 'gateway' | 'clock'>) => {
  const settleFromGateway = makeSettleFromGateway(deps);
  return async (event: PaymentWebhookEvent): Promise<WebhookOutcome> => {
    const target = targetOf(event);
    if ('outcome' in target) return target;
    const tx = await deps.ledger.getTransaction(target.id);
    if (!tx) return { outcome: 'ignored', reason: 'unknown_transaction' };
    if (tx.type !== target.type) return { outcome: 'ignored', reason: 'wrong_type' };
    try {
      const { outcome, transaction } = await settleFromGateway(tx);
      return { outcome, transactionId: transaction.id, status: transaction.status };
    } catch (err) {
      // The gateway could not say: answer 503 so that it delivers the event again later.
      if (err instanceof PaymentGatewayError) throw new ServiceUnavailable('The payment gateway is unavailable, try again shortly');
      throw err;
    }
  };
};
