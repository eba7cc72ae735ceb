import { moveOnce, type IdempotentResult } from '../idempotency';
import type { Metadata } from '../transaction';
import { isValidUserId } from '../user';
import { NotFound, SameAccountTransfer } from '../errors';
import type { Caller, Deps } from './deps';
import { checkMoney } from './check-money';
import { completedMovement } from './completed-movement';
import { early } from './early';
import { idempotencyContext, idempotencyScope } from './idempotency-scope';
import { requireUser } from './require-user';

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
    const scope = idempotencyScope(deps, caller.id, idempotencyKey, 'transfer', request);
    const ctx = idempotencyContext(deps);
    const sender = early(requireUser(deps, caller.id));
    const recipient = early(isValidUserId(input.toUserId)
      ? requireUser(deps, input.toUserId, 'toUserId')
      : Promise.reject(new NotFound('No user profile for toUserId', 'toUserId')));
    // In this order: a transfer to oneself, then the sender's profile, then the recipient's.
    const prechecks = early((async () => {
      if (input.toUserId === caller.id) throw new SameAccountTransfer();
      await sender;
      await recipient;
    })());
    return moveOnce(ctx, scope, prechecks, (claim) => deps.ledger.transfer(
      completedMovement(deps, ctx.now, { type: 'transfer', userId: caller.id, toUserId: input.toUserId, ...money, metadata: input.metadata }),
      scope,
      claim,
    ));
  };
