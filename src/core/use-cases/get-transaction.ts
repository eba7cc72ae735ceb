import { NotFound } from '../errors';
import { isParty, isTransactionId, toPublicTransaction, type Transaction } from '../transaction';
import type { Caller, Deps } from './deps';

export const makeGetTransaction = ({ ledger }: Pick<Deps, 'ledger'>) =>
  async (caller: Caller, id: string): Promise<Transaction> => {
    if (!isTransactionId(id)) throw new NotFound('Transaction not found');
    const tx = await ledger.getTransaction(id);
    // Someone else's transaction is indistinguishable from a missing one.
    if (!tx || (!caller.isAdmin && !isParty(tx, caller.id))) throw new NotFound('Transaction not found');
    return toPublicTransaction(tx);
  };
