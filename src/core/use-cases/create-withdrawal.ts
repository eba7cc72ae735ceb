import { moveOnce, type IdempotentResult } from '../idempotency';
import type { Metadata } from '../transaction';
import type { Caller, Deps } from './deps';
import { checkMoney } from './check-money';
import { completedMovement } from './completed-movement';
import { early } from './early';
import { idempotencyContext, idempotencyScope } from './idempotency-scope';
import { assertOwner } from './ownership';
import { requireUser } from './require-user';

export interface WithdrawalInput {
  userId: string;
  amount: number;
  currency: string;
  metadata?: Metadata;
  idempotencyKey?: string;
}

export const makeCreateWithdrawal = (deps: Pick<Deps, 'ledger' | 'users' | 'clock' | 'ids' | 'limits'>) =>
  async (caller: Caller, input: WithdrawalInput): Promise<IdempotentResult> => {
    assertOwner(caller, input.userId);
    const money = checkMoney(deps, input.amount, input.currency);
    const { idempotencyKey, ...request } = input;
    const scope = idempotencyScope(deps, caller.id, idempotencyKey, 'withdrawal', request);
    const ctx = idempotencyContext(deps);
    const owner = early(requireUser(deps, input.userId));
    return moveOnce(ctx, scope, owner, (claim) => deps.ledger.withdraw(
      completedMovement(deps, ctx.now, { type: 'withdrawal', userId: input.userId, ...money, metadata: input.metadata }),
      scope,
      claim,
    ));
  };
