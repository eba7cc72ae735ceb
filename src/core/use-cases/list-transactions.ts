import type { HistoryQuery } from '../ports';
import { type HistoryPosition, type Transaction, type TransactionStatus, type TransactionType } from '../transaction';
import type { Caller, Deps } from './deps';
import { assertOwnerOrAdmin } from './ownership';
import { requireUser } from './require-user';

export interface ListInput {
  userId: string;
  limit: number;
  before?: HistoryPosition;
  type?: TransactionType;
  status?: TransactionStatus;
}

export interface Page {
  data: Transaction[];
  /** Position of the last item when more may follow. */
  next: HistoryPosition | null;
}

export const makeListTransactions = (deps: Pick<Deps, 'ledger' | 'users'>) =>
  async (caller: Caller, input: ListInput): Promise<Page> => {
    assertOwnerOrAdmin(caller, input.userId);
    await requireUser(deps, input.userId);
    const query: HistoryQuery = { ...input, limit: input.limit + 1 };
    const rows = await deps.ledger.listTransactions(query);
    const data = rows.slice(0, input.limit);
    const last = data[data.length - 1];
    return { data, next: rows.length > input.limit && last ? { createdAt: last.createdAt, id: last.id } : null };
  };
