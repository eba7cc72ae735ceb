import { InvalidRequest } from '../errors';
import { holdRefusal } from '../hold';
import { moveOnce, type IdempotentResult } from '../idempotency';
import { isValidAmount } from '../money';
import type { Metadata } from '../transaction';
import type { Caller, Deps } from './deps';
import { completedMovement } from './completed-movement';
import { idempotencyContext, idempotencyScope } from './idempotency-scope';
import { settleableHold } from './hold-access';

export interface CaptureInput {
  holdId: string;
  amount?: number;
  metadata?: Metadata;
  idempotencyKey?: string;
}

const amountError = (max: number): InvalidRequest =>
  new InvalidRequest(`amount must be an integer number of minor units from 1 to the hold's ${max}`, 'amount');

/**
 * Refusals in this order: who may capture (404, 403), the hold's state (422
 * hold_expired, invalid_state_transition), the amount (400). The ledger re-checks the
 * state in the capture's own atomic step, so of racing captures and voids one wins.
 */
export const makeCaptureHold = (deps: Pick<Deps, 'ledger' | 'clock' | 'ids' | 'limits'>) =>
  async (caller: Caller, input: CaptureInput): Promise<IdempotentResult> => {
    if (input.amount !== undefined && !isValidAmount(input.amount, deps.limits.maxAmount)) throw amountError(deps.limits.maxAmount);
    const { idempotencyKey, ...request } = input;
    const scope = idempotencyScope(deps, caller.id, idempotencyKey, 'capture', request);
    const ctx = idempotencyContext(deps);
    // With a new key and a ledger that can (claimsWithCapture), the capture's own atomic
    // step claims it: the hold's read, then one step. Refusals go the regular way (moveOnce).
    return moveOnce(ctx, scope, async (claim) => {
      const hold = await settleableHold(deps, caller, input.holdId, ctx.now);
      const refusal = holdRefusal(hold, 'captured', ctx.now);
      if (refusal) throw refusal;
      const amount = input.amount ?? hold.amount;
      if (amount > hold.amount) throw amountError(hold.amount);
      const transaction = {
        ...completedMovement(deps, ctx.now, {
          type: hold.toUserId === undefined ? 'withdrawal' : 'transfer',
          userId: hold.userId,
          ...(hold.toUserId !== undefined && { toUserId: hold.toUserId }),
          amount,
          currency: hold.currency,
          metadata: input.metadata,
        }),
        holdId: hold.id,
      };
      return (await deps.ledger.captureHold({ holdId: hold.id, transaction, now: ctx.now }, scope, claim)).transaction;
    }, undefined, 'capture');
  };
