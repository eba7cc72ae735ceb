import { TransactionNotFound } from '../errors';
import { isParty, isTransactionId, type Transaction } from '../transaction';
import type { Caller, Deps } from './deps';

export const makeGetTransaction = ({ ledger }: Pick<Deps, 'ledger'>) =>
  async (caller: Caller, id: string): Promise<Transaction> => {
    if (!isTransactionId(id)) throw new TransactionNotFound();
    const tx = await ledger.getTransaction(id);
    // Someone else's transaction is indistinguishable from a missing one.
    if (!tx || (!caller.isAdmin && !isParty(tx, caller.id))) throw new TransactionNotFound();
    return tx;
  };
