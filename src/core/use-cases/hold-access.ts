import { Forbidden, HoldNotFound } from '../errors';
import { holdSettler, isHoldParty, type Hold } from '../hold';
import { isTransactionId } from '../transaction';
import type { Caller, Deps } from './deps';

/** The hold as of `now` if the caller may see it (payer, payee, admin); anyone else gets the same 404 as for a missing one. */
export const visibleHold = async (deps: Pick<Deps, 'ledger'>, caller: Caller, id: string, now: string): Promise<Hold> => {
  if (!isTransactionId(id)) throw new HoldNotFound();
  const hold = await deps.ledger.getHold(id, now);
  if (!hold || (!caller.isAdmin && !isHoldParty(hold, caller.id))) throw new HoldNotFound();
  return hold;
};

/** The payer of a hold with a payee, trying to capture or void it. */
export const payeeOnly = (): Forbidden => new Forbidden('Only the payee can capture or void this hold');

/** Capture and void: the payee (the payer when there is none), or an admin. */
export const settleableHold = async (deps: Pick<Deps, 'ledger'>, caller: Caller, id: string, now: string): Promise<Hold> => {
  const hold = await visibleHold(deps, caller, id, now);
  if (!caller.isAdmin && holdSettler(hold) !== caller.id) throw payeeOnly();
  return hold;
};
