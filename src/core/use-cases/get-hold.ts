import type { Hold } from '../hold';
import type { Caller, Deps } from './deps';
import { visibleHold } from './hold-access';

export const makeGetHold = (deps: Pick<Deps, 'ledger' | 'clock'>) =>
  async (caller: Caller, id: string): Promise<Hold> => visibleHold(deps, caller, id, deps.clock.now());
