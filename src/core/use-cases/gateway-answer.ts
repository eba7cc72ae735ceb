import { InvalidStateTransition, TransactionNotFound, type DomainError } from '../errors';
import type { IdempotencyScope, PaymentResult } from '../ports';
import type { Transaction } from '../transaction';
import type { Deps } from './deps';

/** How a transaction that ended `failed` came to be seen so, for the error its caller gets. */
export interface FailedSeen {
  /** The settle asked for `completed` and the ledger failed it instead (the balance could not hold the credit). */
  creditRefused: boolean;
  /** The gateway has just said the money moved, but someone else settled the transaction first. */
  charged: boolean;
}

/**
 * What a deposit and a deposit refund share once the gateway has answered for them:
 * pending → the gateway's id is kept and the pending transaction is the outcome;
 * succeeded or declined → the ledger's atomic settle, recording the key's outcome with a
 * completion; settled by someone else meanwhile (reconciler, webhook, admin) → theirs
 * stands. `failed` names the error a failed one answers with.
 */
export const makeGatewayAnswer = (
  { ledger, clock }: Pick<Deps, 'ledger' | 'clock'>,
  failed: (tx: Transaction, seen: FailedSeen) => DomainError | Promise<DomainError>,
) => {
  /** Answers for a transaction already final: its error, or its recorded completion. */
  const finish = async (tx: Transaction, scope: IdempotencyScope | undefined, charged = false): Promise<Transaction> => {
    if (tx.status === 'failed') throw await failed(tx, { creditRefused: false, charged });
    if (tx.status === 'completed' && scope) await ledger.completeIdempotency(scope, { kind: 'transaction', transaction: tx });
    return tx;
  };

  const apply = async (tx: Transaction, result: PaymentResult, scope: IdempotencyScope | undefined): Promise<Transaction> => {
    if (result.status === 'pending') {
      if (tx.paymentRef !== result.paymentRef) await ledger.setPaymentRef(tx.id, result.paymentRef);
      if (scope) await ledger.completeIdempotency(scope, { kind: 'transaction', transaction: tx });
      return tx;
    }
    const status = result.status === 'succeeded' ? 'completed' : 'failed';
    let settled: Transaction;
    try {
      settled = await ledger.settle({ id: tx.id, status, now: clock.now() }, status === 'completed' ? scope : undefined);
    } catch (err) {
      if (!(err instanceof InvalidStateTransition)) throw err;
      const current = await ledger.getTransaction(tx.id);
      if (!current) throw new TransactionNotFound();
      return finish(current, scope, result.status === 'succeeded');
    }
    if (settled.status === 'failed') throw await failed(settled, { creditRefused: status === 'completed', charged: false });
    return settled;
  };

  return { apply, finish };
};
