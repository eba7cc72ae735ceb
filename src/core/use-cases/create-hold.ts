import { InvalidRequest, SameAccountTransfer } from '../errors';
import { DEFAULT_HOLD_SECONDS, MAX_HOLD_SECONDS, type Hold } from '../hold';
import { holdOnce, type IdempotentHold } from '../idempotency';
import type { Metadata } from '../transaction';
import { isValidUserId, profileNotFound } from '../user';
import type { Caller, Deps } from './deps';
import { checkMoney } from './check-money';
import { idempotencyContext, idempotencyScope } from './idempotency-scope';
import { assertOwner } from './ownership';
import { requireUser } from './require-user';

export interface HoldInput {
  userId: string;
  amount: number;
  currency: string;
  toUserId?: string;
  expiresInSeconds?: number;
  metadata?: Metadata;
  idempotencyKey?: string;
}

const checkExpiry = (seconds: unknown = DEFAULT_HOLD_SECONDS): number => {
  if (typeof seconds !== 'number' || !Number.isSafeInteger(seconds) || seconds < 1 || seconds > MAX_HOLD_SECONDS) {
    throw new InvalidRequest(`expiresInSeconds must be an integer from 1 to ${MAX_HOLD_SECONDS}`, 'expiresInSeconds');
  }
  return seconds;
};

/**
 * Refusals in this order: a hold to oneself, the payer's profile, the payee's, the
 * balance. The ledger checks the last three inside the hold's own atomic step.
 */
export const makeCreateHold = (deps: Pick<Deps, 'ledger' | 'users' | 'clock' | 'ids' | 'limits'>) =>
  async (caller: Caller, input: HoldInput): Promise<IdempotentHold> => {
    assertOwner(caller, input.userId);
    const money = checkMoney(deps, input.amount, input.currency);
    const seconds = checkExpiry(input.expiresInSeconds);
    const { idempotencyKey, ...request } = input;
    const scope = idempotencyScope(deps, caller.id, idempotencyKey, 'hold', { ...request, expiresInSeconds: seconds });
    const ctx = idempotencyContext(deps);
    const { toUserId } = input;
    const precheck = (): void => {
      if (toUserId === input.userId) throw new SameAccountTransfer();
    };
    // An id no token can carry has no profile: only the payer's profile is worth a look.
    if (toUserId !== undefined && !isValidUserId(toUserId)) {
      return holdOnce(ctx, scope, async () => {
        await requireUser(deps, input.userId);
        throw profileNotFound('toUserId');
      }, precheck);
    }
    return holdOnce(ctx, scope, (claim) => {
      const hold: Hold = {
        id: deps.ids.transactionId(),
        userId: input.userId,
        ...(toUserId !== undefined && { toUserId }),
        ...money,
        capturedAmount: 0,
        status: 'held',
        expiresAt: new Date(Date.parse(ctx.now) + seconds * 1000).toISOString(),
        metadata: input.metadata ?? {},
        createdAt: ctx.now,
        updatedAt: ctx.now,
      };
      return deps.ledger.createHold(hold, scope, claim);
    }, precheck);
  };
