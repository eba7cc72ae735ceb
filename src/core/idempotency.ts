import { createHash } from 'node:crypto';
import { DomainError, IdempotencyKeyInUse, IdempotencyKeyReused, isFinalOutcome, ServiceUnavailable } from './errors';
import type { ClaimTimes, IdempotencyClaim, IdempotencyScope, Ledger } from './ports';
import { toPublicTransaction, type Transaction } from './transaction';

/** Stable JSON: object keys sorted, so equal requests always hash equally. */
export const canonicalJson = (value: unknown): string => {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
};

/** The fingerprint binds a key to one operation and one request body. */
export const fingerprint = (operation: string, request: unknown): string =>
  createHash('sha256').update(canonicalJson({ operation, request })).digest('base64url');

export const claimTimes = (ctx: IdempotencyContext): ClaimTimes => {
  const at = Date.parse(ctx.now);
  return { now: ctx.now, leaseUntil: new Date(at + ctx.leaseMs).toISOString(), expiresAt: new Date(at + ctx.ttlMs).toISOString() };
};

export interface IdempotentResult {
  transaction: Transaction;
  replayed: boolean;
}

export interface IdempotencyContext {
  ledger: Ledger;
  now: string;
  leaseMs: number;
  ttlMs: number;
}

/**
 * Runs `run` at most once per (caller, key). `run` must record its success outcome
 * atomically with its money movement (the Ledger methods take the scope for that).
 * 4xx outcomes are recorded here; on 5xx the claim is released so a retry runs again.
 */
export const withIdempotency = async (
  ctx: IdempotencyContext,
  scope: IdempotencyScope | undefined,
  run: (claim: Extract<IdempotencyClaim, { kind: 'claimed' }>) => Promise<Transaction>,
): Promise<IdempotentResult> => {
  if (!scope) return { transaction: await run({ kind: 'claimed' }), replayed: false };

  const claim = await ctx.ledger.claimIdempotency(scope, claimTimes(ctx));
  switch (claim.kind) {
    case 'mismatch':
      throw new IdempotencyKeyReused();
    case 'in_use':
      throw new IdempotencyKeyInUse();
    case 'replay':
      if (claim.outcome.kind === 'error') throw DomainError.replay(claim.outcome.error);
      return { transaction: toPublicTransaction(claim.outcome.transaction), replayed: true };
    case 'claimed':
      break;
  }

  try {
    return { transaction: await run(claim), replayed: false };
  } catch (err) {
    if (isFinalOutcome(err)) {
      try {
        await ctx.ledger.completeIdempotency(scope, { kind: 'error', error: err.snapshot() });
      } catch {
        // The outcome could not be made final; let the retry decide again.
        await ctx.ledger.releaseIdempotency(scope).catch(() => undefined);
        throw new ServiceUnavailable();
      }
    } else {
      await ctx.ledger.releaseIdempotency(scope).catch(() => undefined);
    }
    throw err;
  }
};

/**
 * A withdrawal or transfer: `move(claim)` performs it in one atomic step that also
 * checks the profiles and the balance; `precheck` holds the checks that need no
 * storage (a transfer to oneself). With a key, the fast path lets the ledger claim a
 * new key inside the movement itself, so a keyed movement is one round trip when it
 * succeeds. Anything else — no fast path, a key already on record, any refusal (which
 * rolled back and recorded nothing) — goes through withIdempotency, which decides and
 * records the outcome the regular way.
 */
export const moveOnce = async (
  ctx: IdempotencyContext,
  scope: IdempotencyScope | undefined,
  move: (claim?: ClaimTimes) => Promise<Transaction>,
  precheck: () => void = () => undefined,
): Promise<IdempotentResult> => {
  const regular = () => withIdempotency(ctx, scope, async () => {
    precheck();
    return move();
  });
  if (!scope || !ctx.ledger.claimsWithMovement) return regular();
  try {
    precheck();
  } catch {
    return regular();
  }
  try {
    return { transaction: await move(claimTimes(ctx)), replayed: false };
  } catch (err) {
    if (err instanceof IdempotencyKeyInUse || isFinalOutcome(err)) return regular();
    throw err;
  }
};
