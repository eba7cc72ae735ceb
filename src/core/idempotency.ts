import { createHash } from 'node:crypto';
import { BalanceOverflow, DomainError, IdempotencyKeyInUse, IdempotencyKeyReused, InsufficientFunds, isFinalOutcome, ServiceUnavailable } from './errors';
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
 * A withdrawal or transfer: `move(claim)` performs it, `prechecks` (started by the
 * caller, before the claim, so both travel at once) must pass first. With a key, the
 * fast path lets the ledger claim a new key inside the movement itself (one commit)
 * when it can and the prechecks passed; anything else — no fast path, a key already on
 * record, a refusal, a failed precheck — goes through withIdempotency, which decides
 * (and records) the outcome the regular way.
 */
export const moveOnce = async (
  ctx: IdempotencyContext,
  scope: IdempotencyScope | undefined,
  prechecks: Promise<unknown>,
  move: (claim?: ClaimTimes) => Promise<Transaction>,
): Promise<IdempotentResult> => {
  const regular = () => withIdempotency(ctx, scope, async () => {
    await prechecks;
    return move();
  });
  // Without the fast path the claim starts at once, alongside the prechecks.
  if (!scope || !ctx.ledger.claimsWithMovement) return regular();
  if (!(await prechecks.then(() => true, () => false))) return regular();
  try {
    return { transaction: await move(claimTimes(ctx)), replayed: false };
  } catch (err) {
    if (err instanceof IdempotencyKeyInUse || err instanceof InsufficientFunds || err instanceof BalanceOverflow) return regular();
    throw err;
  }
};
