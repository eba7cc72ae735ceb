import { holdRefusal } from '../hold';
import { withIdempotentHold, type IdempotentHold } from '../idempotency';
import type { Caller, Deps } from './deps';
import { idempotencyContext, idempotencyScope } from './idempotency-scope';
import { settleableHold } from './hold-access';

/** Refusals as for a capture; the whole amount returns to the payer's `available`. */
export const makeVoidHold = (deps: Pick<Deps, 'ledger' | 'clock' | 'ids' | 'limits'>) =>
  async (caller: Caller, input: { holdId: string; idempotencyKey?: string }): Promise<IdempotentHold> => {
    const scope = idempotencyScope(deps, caller.id, input.idempotencyKey, 'void', { holdId: input.holdId });
    const ctx = idempotencyContext(deps);
    return withIdempotentHold(ctx, scope, async () => {
      const hold = await settleableHold(deps, caller, input.holdId, ctx.now);
      const refusal = holdRefusal(hold, 'voided', ctx.now);
      if (refusal) throw refusal;
      return deps.ledger.voidHold({ holdId: hold.id, now: ctx.now }, scope);
    });
  };
