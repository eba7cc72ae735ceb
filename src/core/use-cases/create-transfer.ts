import { moveOnce, type IdempotentResult } from '../idempotency';
import type { Metadata } from '../transaction';
import { isValidUserId, profileNotFound } from '../user';
import { SameAccountTransfer } from '../errors';
import type { Caller, Deps } from './deps';
import { checkMoney } from './check-money';
import { completedMovement } from './completed-movement';
import { idempotencyContext, idempotencyScope } from './idempotency-scope';
import { requireUser } from './require-user';

export interface TransferInput {
  toUserId: string;
  amount: number;
  currency: string;
  metadata?: Metadata;
  idempotencyKey?: string;
}

/**
 * Refusals in this order: a transfer to oneself, then the sender's profile, then the
 * recipient's, then the balance. The ledger checks both profiles and the balance inside
 * the transfer's own atomic step, so a keyed transfer is one round trip when it succeeds.
 */
export const makeCreateTransfer = (deps: Pick<Deps, 'ledger' | 'users' | 'clock' | 'ids' | 'limits'>) =>
  async (caller: Caller, input: TransferInput): Promise<IdempotentResult> => {
    const money = checkMoney(deps, input.amount, input.currency);
    const { idempotencyKey, ...request } = input;
    const scope = idempotencyScope(deps, caller.id, idempotencyKey, 'transfer', request);
    const ctx = idempotencyContext(deps);
    const precheck = (): void => {
      if (input.toUserId === caller.id) throw new SameAccountTransfer();
    };
    // An id no token can carry has no profile: only the sender's profile is worth a look.
    if (!isValidUserId(input.toUserId)) {
      return moveOnce(ctx, scope, async () => {
        await requireUser(deps, caller.id);
        throw profileNotFound('toUserId');
      }, precheck);
    }
    return moveOnce(ctx, scope, (claim) => deps.ledger.transfer(
      completedMovement(deps, ctx.now, { type: 'transfer', userId: caller.id, toUserId: input.toUserId, ...money, metadata: input.metadata }),
      scope,
      claim,
    ), precheck);
  };
