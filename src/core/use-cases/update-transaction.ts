import { Forbidden, InvalidRequest, TransactionNotFound } from '../errors';
import { assertTransition, isTransactionId, type Metadata, type Transaction, type TransactionStatus } from '../transaction';
import { creditRefused } from './credit-refused';
import type { Caller, Deps } from './deps';

export interface UpdateTransactionInput {
  id: string;
  status?: TransactionStatus;
  metadata?: Metadata;
}

export const makeUpdateTransaction = ({ ledger, clock }: Pick<Deps, 'ledger' | 'clock'>) =>
  async (caller: Caller, input: UpdateTransactionInput): Promise<Transaction> => {
    if (!caller.isAdmin) throw new Forbidden('Only an admin can change a transaction');
    if (!isTransactionId(input.id)) throw new TransactionNotFound();
    if (input.status === undefined && input.metadata === undefined) {
      throw new InvalidRequest('Send status, metadata or both');
    }
    const tx = await ledger.getTransaction(input.id);
    if (!tx) throw new TransactionNotFound();
    if (input.status === undefined) {
      return await ledger.updateMetadata(tx.id, input.metadata ?? {}, clock.now());
    }
    assertTransition(tx.status, input.status);
    // The adapter re-checks `pending` atomically: a racing reconciler or admin loses with 422.
    const settled = await ledger.settle({
      id: tx.id,
      status: input.status === 'completed' ? 'completed' : 'failed',
      now: clock.now(),
      ...(input.metadata !== undefined && { metadata: input.metadata }),
    });
    if (input.status === 'completed' && settled.status === 'failed') throw creditRefused(settled);
    return settled;
  };
