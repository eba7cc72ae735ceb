import type { User } from '../user';
import type { Caller, Deps } from './deps';
import { assertOwnerOrAdmin } from './ownership';
import { requireUser } from './require-user';

export const makeGetUser = (deps: Pick<Deps, 'users' | 'ledger' | 'clock'>) =>
  async (caller: Caller, userId: string): Promise<User> => {
    assertOwnerOrAdmin(caller, userId);
    const profile = await requireUser(deps, userId);
    return { ...profile, balances: await deps.ledger.getBalances(userId, deps.clock.now()) };
  };
