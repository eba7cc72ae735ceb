import type { Hold, HoldStatus } from '../hold';
import type { HistoryPosition } from '../transaction';
import type { Caller, Deps } from './deps';
import { assertOwnerOrAdmin } from './ownership';
import { requireUser } from './require-user';

export interface ListHoldsInput {
  userId: string;
  limit: number;
  before?: HistoryPosition;
  status?: HoldStatus;
}

export interface HoldPage {
  data: Hold[];
  /** Position of the last item when more may follow. */
  next: HistoryPosition | null;
}

/** The holds a user pays, newest first. */
export const makeListHolds = (deps: Pick<Deps, 'ledger' | 'users' | 'clock'>) =>
  async (caller: Caller, input: ListHoldsInput): Promise<HoldPage> => {
    assertOwnerOrAdmin(caller, input.userId);
    await requireUser(deps, input.userId);
    const rows = await deps.ledger.listHolds({ ...input, limit: input.limit + 1, now: deps.clock.now() });
    const data = rows.slice(0, input.limit);
    const last = data[data.length - 1];
    return { data, next: rows.length > input.limit && last ? { createdAt: last.createdAt, id: last.id } : null };
  };
