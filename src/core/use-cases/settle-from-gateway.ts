// The one "ask the gateway, settle from its answer" step. The reconciler and the
// payment webhook both go through it, and it settles with the same atomic
// pending → final transition an admin PATCH uses (Ledger.settle), so whoever comes
// first wins and everyone else changes nothing.
import { InvalidStateTransition } from '../errors';
import type { PaymentResult } from '../ports';
import type { FinalStatus, Transaction } from '../transaction';
import type { Deps } from './deps';

export type Settlement =
  /** Settled by this call; `transaction.status` says how (a credit the balance cannot hold comes back `failed`). */
  | { outcome: 'settled'; transaction: Transaction }
  /** The gateway says pending, or does not know the payment (yet): nothing changed. */
  | { outcome: 'pending'; transaction: Transaction }
  /** Final already when looked at, or settled by someone else first: nothing changed. */
  | { outcome: 'already_settled'; transaction: Transaction }
  /** A type the gateway has no say on (withdrawal, transfer): nothing asked, nothing changed. */
  | { outcome: 'not_settleable'; transaction: Transaction };

export interface SettleOptions {
  /**
   * A transaction the gateway has never heard of, created before this time (ms since
   * the epoch), is failed: nothing was charged. Unset: it stays pending (only the
   * reconciler gives up on a payment).
   */
  abandonCreatedBeforeMs?: number;
}

const finalStatusOf = (result: PaymentResult): FinalStatus | undefined =>
  result.status === 'succeeded' ? 'completed' : result.status === 'declined' ? 'failed' : undefined;

export const makeSettleFromGateway = ({ ledger, gateway, clock }: Pick<Deps, 'ledger' | 'gateway' | 'clock'>) => {
  /** The gateway's current view of the money `tx` moves through it; undefined for a type it does not settle. */
  const askGateway = (tx: Transaction): Promise<PaymentResult | null> | undefined => {
    switch (tx.type) {
      case 'deposit':
        return gateway.getPaymentStatus({ depositId: tx.id, ...(tx.paymentRef !== undefined && { paymentRef: tx.paymentRef }) });
      // A deposit refund waits for the gateway the same way (other refunds complete at once).
      case 'refund':
        return gateway.getRefundStatus({ refundId: tx.id, ...(tx.paymentRef !== undefined && { paymentRef: tx.paymentRef }) });
      default:
        return undefined;
    }
  };

  return async (tx: Transaction, opts: SettleOptions = {}): Promise<Settlement> => {
    // Nothing to ask about a final transaction: a repeat costs the caller's one read.
    if (tx.status !== 'pending') return { outcome: 'already_settled', transaction: tx };
    const asked = askGateway(tx);
    if (!asked) return { outcome: 'not_settleable', transaction: tx };
    const result = await asked;
    const abandoned = result === null && opts.abandonCreatedBeforeMs !== undefined && Date.parse(tx.createdAt) < opts.abandonCreatedBeforeMs;
    const status = result !== null ? finalStatusOf(result) : abandoned ? 'failed' : undefined;
    if (status === undefined) return { outcome: 'pending', transaction: tx };
    try {
      return { outcome: 'settled', transaction: await ledger.settle({ id: tx.id, status, now: clock.now() }) };
    } catch (err) {
      // Settled by someone else between our read and this atomic step: theirs stands.
      if (err instanceof InvalidStateTransition) return { outcome: 'already_settled', transaction: tx };
      throw err;
    }
  };
};
