import { moveOnce, withIdempotency, type IdempotentResult } from '../idempotency';
import type { Metadata } from '../transaction';
import { isValidUserId } from '../user';
import { NotFound, SameAccountTransfer } from '../errors';
import type { Caller, Deps } from './deps';
import { checkMoney, completedMovement, early, idempotencyContext, idempotencyScope, requireUser, succeeded } from './shared';

export interface TransferInput {
  toUserId: string;
  amount: number;
  currency: string;
  metadata?: Metadata;
  idempotencyKey?: string;
}

export const makeCreateTransfer = (deps: Pick<Deps, 'ledger' | 'users' | 'clock' | 'ids' | 'limits'>) =>
  async (caller: Caller, input: TransferInput): Promise<IdempotentResult> => {
    const money = checkMoney(deps, input.amount, input.currency);
    const { idempotencyKey, ...request } = input;
    const scope = idempotencyScope(caller.id, idempotencyKey, 'transfer', request);
    const ctx = idempotencyContext(deps);
    const sender = early(requireUser(deps, caller.id));
    const recipient = early(isValidUserId(input.toUserId)
      ? requireUser(deps, input.toUserId, 'toUserId')
      : Promise.reject(new NotFound('No user profile for toUserId', 'toUserId')));
    const movement = () =>
      completedMovement(deps, ctx.now, { type: 'transfer', userId: caller.id, toUserId: input.toUserId, ...money, metadata: input.metadata });
    return moveOnce(ctx, scope, {
      prechecked: async () => input.toUserId !== caller.id && (await succeeded(sender)) && (await succeeded(recipient)),
      move: (claim) => deps.ledger.transfer(movement(), scope, claim),
    }, () => withIdempotency(ctx, scope, async () => {
      if (input.toUserId === caller.id) throw new SameAccountTransfer();
      await sender;
      await recipient;
      return deps.ledger.transfer(movement(), scope);
    }));
  };
