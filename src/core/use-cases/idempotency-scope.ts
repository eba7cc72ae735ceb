import { fingerprint, type IdempotencyContext } from '../idempotency';
import type { IdempotencyScope } from '../ports';
import type { Deps } from './deps';

/** The scope of a request's Idempotency-Key (none without a key), with a fresh claim token. */
export const idempotencyScope = (
  deps: Pick<Deps, 'ids'>,
  callerId: string,
  key: string | undefined,
  operation: string,
  request: unknown,
): IdempotencyScope | undefined =>
  key === undefined ? undefined : { callerId, key, fingerprint: fingerprint(operation, request), token: deps.ids.claimToken() };

export const idempotencyContext = (deps: Pick<Deps, 'ledger' | 'clock' | 'limits'>): IdempotencyContext => ({
  ledger: deps.ledger,
  now: deps.clock.now(),
  nowMs: () => deps.clock.nowMs(),
  leaseMs: deps.limits.idempotencyLeaseMs,
  ttlMs: deps.limits.idempotencyTtlMs,
});
