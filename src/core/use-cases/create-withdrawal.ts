import { moveOnce, type IdempotentResult } from '../idempotency';
import type { Metadata } from '../transaction';
import type { Caller, Deps } from './deps';
import { checkMoney } from './check-money';
import { completedMovement } from './completed-movement';
import { idempotencyContext, idempotencyScope } from './idempotency-scope';
import { assertOwner } from './ownership';

export interface WithdrawalInput {
  userId: string;
  amount: number;
  currency: string;
  metadata?: Metadata;
  idempotencyKey?: string;
}

/** The ledger checks the owner's profile and balance inside the withdrawal's own atomic step. */
export const makeCreateWithdrawal = (deps: Pick<Deps, 'ledger' | 'clock' | 'ids' | 'limits'>) =>
  async (caller: Caller, input: WithdrawalInput): Promise<IdempotentResult> => {
    assertOwner(caller, input.userId);
    const money = checkMoney(deps, input.amount, input.currency);
    const { idempotencyKey, ...request } = input;
    const scope = idempotencyScope(deps, caller.id, idempotencyKey, 'withdrawal', request);
    const ctx = idempotencyContext(deps);
    return moveOnce(ctx, scope, (claim) => deps.ledger.withdraw(
      completedMovement(deps, ctx.now, { type: 'withdrawal', userId: input.userId, ...money, metadata: input.metadata }),
      scope,
      claim,
    ));
  };
