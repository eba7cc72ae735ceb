import { randomUUID } from 'node:crypto';
import { Forbidden, InvalidRequest } from '../errors';
import { fingerprint, type IdempotencyContext } from '../idempotency';
import { isCurrency, isValidAmount, type Currency } from '../money';
import type { IdempotencyScope } from '../ports';
import type { Metadata, Transaction } from '../transaction';
import { profileNotFound, type UserProfile } from '../user';
import type { Caller, Deps } from './deps';

export const assertOwner = (caller: Caller, userId: string): void => {
  if (caller.id !== userId) throw new Forbidden('You can only move your own money');
};

export const assertOwnerOrAdmin = (caller: Caller, userId: string): void => {
  if (!caller.isAdmin && caller.id !== userId) throw new Forbidden('You can only read your own account');
};

export const requireUser = async (deps: Pick<Deps, 'users'>, id: string, param?: 'toUserId'): Promise<UserProfile> => {
  const user = await deps.users.get(id);
  if (!user) throw profileNotFound(param);
  return user;
};

/** The core's own guard: the edge validates too, but no float or out-of-range amount gets past here. */
export const checkMoney = (deps: Pick<Deps, 'limits'>, amount: unknown, currency: unknown): { amount: number; currency: Currency } => {
  if (!isValidAmount(amount, deps.limits.maxAmount)) {
    throw new InvalidRequest(`amount must be an integer number of minor units from 1 to ${deps.limits.maxAmount}`, 'amount');
  }
  if (!isCurrency(currency)) throw new InvalidRequest('currency is not supported', 'currency');
  return { amount, currency };
};

export const idempotencyScope = (
  callerId: string,
  key: string | undefined,
  operation: string,
  request: unknown,
): IdempotencyScope | undefined =>
  key === undefined ? undefined : { callerId, key, fingerprint: fingerprint(operation, request), token: randomUUID() };

export const idempotencyContext = (deps: Pick<Deps, 'ledger' | 'clock' | 'limits'>): IdempotencyContext => ({
  ledger: deps.ledger,
  now: deps.clock.now(),
  leaseMs: deps.limits.idempotencyLeaseMs,
  ttlMs: deps.limits.idempotencyTtlMs,
});

/**
 * Starts a read that does not depend on the idempotency claim, so that both travel
 * at once. A failure surfaces where the result is awaited (inside the claimed run,
 * so a 404 becomes the key's recorded outcome); unawaited, it is ignored.
 */
export const early = <T>(p: Promise<T>): Promise<T> => {
  p.catch(() => undefined);
  return p;
};

/** A new completed withdrawal or transfer, stamped with the request's time. */
export const completedMovement = (
  deps: Pick<Deps, 'ids'>,
  now: string,
  fields: Pick<Transaction, 'type' | 'userId' | 'amount' | 'currency'> & { toUserId?: string; metadata?: Metadata | undefined },
): Transaction => ({
  id: deps.ids.transactionId(),
  status: 'completed',
  ...fields,
  metadata: fields.metadata ?? {},
  createdAt: now,
  updatedAt: now,
});
