import { createHash, hash } from 'node:crypto';
import { DomainError, IdempotencyKeyInUse, IdempotencyKeyReused, isFinalOutcome, ServiceUnavailable } from './errors';
import type { Hold } from './hold';
import type { ClaimTimes, IdempotencyClaim, IdempotencyOutcome, IdempotencyScope, Ledger } from './ports';
import type { Transaction } from './transaction';

/**
 * Stable JSON: object keys sorted (by UTF-16 code units, as `sort()` does), fields whose
 * value is undefined left out, so equal requests always hash equally. Stored records
 * hold fingerprints made by earlier versions: the output must never change (its test
 * pins known values).
 */
export const canonicalJson = (value: unknown): string => {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + canonicalJson(value[i]);
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  let out = '{';
  for (const key of Object.keys(record).sort()) {
    const v = record[key];
    if (v === undefined) continue;
    out += (out.length === 1 ? '' : ',') + JSON.stringify(key) + ':' + canonicalJson(v);
  }
  return `${out}}`;
};

/** SHA-256, base64url: `crypto.hash` where Node has it (one call, ≈ 3× faster for short input), else a Hash object. */
const sha256 = (text: string): string =>
  typeof hash === 'function' ? hash('sha256', text, 'base64url') : createHash('sha256').update(text).digest('base64url');

/** The fingerprint binds a key to one operation and one request body. */
export const fingerprint = (operation: string, request: unknown): string => sha256(canonicalJson({ operation, request }));

export const claimTimes = (ctx: IdempotencyContext): ClaimTimes => {
  const at = Date.parse(ctx.now);
  return { now: ctx.now, leaseUntil: new Date(at + ctx.leaseMs).toISOString(), expiresAt: new Date(at + ctx.ttlMs).toISOString() };
};

export interface IdempotentResult {
  transaction: Transaction;
  replayed: boolean;
}

export interface IdempotentHold {
  hold: Hold;
  replayed: boolean;
}

export interface IdempotencyContext {
  ledger: Ledger;
  now: string;
  /** The clock's current time in ms (the Clock port): bounds background release retries. */
  nowMs: () => number;
  leaseMs: number;
  ttlMs: number;
}

// Claims this process holds but could not release (the store was unreachable when
// the request gave up). Nothing runs under them any more, so they are released as
// soon as the store answers again: retried in the background, bounded by the claim's
// lease (after it any retry takes the key over anyway), and first thing when a retry
// of the same key reaches this process — which then claims at once instead of
// answering 409 for a key that nobody is processing.
interface Orphan {
  scope: IdempotencyScope;
  until: number;
  nowMs: () => number;
  attempts: number;
  timer?: ReturnType<typeof setTimeout>;
}
/** Per ledger, by key and then by request token: several attempts of one key can each leave a claim behind. */
const orphans = new WeakMap<Ledger, Map<string, Map<string, Orphan>>>();
const keyOf = (s: IdempotencyScope): string => JSON.stringify([s.callerId, s.key]);
/** Backoff between background release attempts. */
export const releaseRetryDelayMs = (attempt: number): number => Math.min(100 * 2 ** Math.min(attempt, 4), 1_000);

/** Tries to release one orphan now; true when it is gone (released, or its lease is over). */
const releaseOrphan = async (ledger: Ledger, o: Orphan): Promise<boolean> => {
  const ofKey = orphans.get(ledger)?.get(keyOf(o.scope));
  if (ofKey?.get(o.scope.token) !== o) return true;
  const ok = await ledger.releaseIdempotency(o.scope).then(() => true, () => false);
  if (ok || o.nowMs() >= o.until) {
    clearTimeout(o.timer);
    ofKey.delete(o.scope.token);
    if (ofKey.size === 0) orphans.get(ledger)?.delete(keyOf(o.scope));
    return true;
  }
  return false;
};

const scheduleOrphan = (ledger: Ledger, o: Orphan): void => {
  o.timer = setTimeout(() => {
    void releaseOrphan(ledger, o).then((gone) => {
      if (!gone) scheduleOrphan(ledger, o);
    });
  }, releaseRetryDelayMs(o.attempts++));
  // Never keeps a process alive on its own.
  o.timer.unref?.();
};

/** Releases the claim; when the store cannot be reached, keeps retrying (see `orphans`). */
const release = async (ctx: IdempotencyContext, scope: IdempotencyScope): Promise<void> => {
  if (await ctx.ledger.releaseIdempotency(scope).then(() => true, () => false)) return;
  let mine = orphans.get(ctx.ledger);
  if (!mine) orphans.set(ctx.ledger, (mine = new Map()));
  let ofKey = mine.get(keyOf(scope));
  if (!ofKey) mine.set(keyOf(scope), (ofKey = new Map()));
  const o: Orphan = { scope, until: Date.parse(claimTimes(ctx).leaseUntil), nowMs: ctx.nowMs, attempts: 0 };
  ofKey.set(scope.token, o);
  scheduleOrphan(ctx.ledger, o);
};

/** Before claiming: orphans of this process for the same key are released first, so the claim need not wait out their lease. */
const releaseOwnOrphans = async (ledger: Ledger, scope: IdempotencyScope): Promise<void> => {
  const ofKey = orphans.get(ledger)?.get(keyOf(scope));
  if (ofKey) await Promise.all([...ofKey.values()].map((o) => releaseOrphan(ledger, o)));
};

/** Claims still waiting for their release in this process (for tests and diagnostics). */
export const pendingReleases = (ledger: Ledger): number =>
  [...(orphans.get(ledger)?.values() ?? [])].reduce((n, ofKey) => n + ofKey.size, 0);

type Claimed = Extract<IdempotencyClaim, { kind: 'claimed' }>;
type Resource = Exclude<IdempotencyOutcome, { kind: 'error' }>;

/**
 * Runs `run` at most once per (caller, key). `run` must record its success outcome
 * atomically with its money movement (the Ledger methods take the scope for that).
 * 4xx outcomes are recorded here; on 5xx the claim is released so a retry runs again.
 */
export const withIdempotency = async (
  ctx: IdempotencyContext,
  scope: IdempotencyScope | undefined,
  run: (claim: Claimed) => Promise<Transaction>,
): Promise<IdempotentResult> => {
  const { resource, replayed } = await once(ctx, scope, async (claim) => ({ kind: 'transaction', transaction: await run(claim) }));
  if (resource.kind !== 'transaction') throw new IdempotencyKeyReused();
  return { transaction: resource.transaction, replayed };
};

/** withIdempotency for the operations that answer a Hold (create, void). */
export const withIdempotentHold = async (
  ctx: IdempotencyContext,
  scope: IdempotencyScope | undefined,
  run: (claim: Claimed) => Promise<Hold>,
): Promise<IdempotentHold> => {
  const { resource, replayed } = await once(ctx, scope, async (claim) => ({ kind: 'hold', hold: await run(claim) }));
  // A key's fingerprint names its operation, so a record of the other kind cannot match it.
  if (resource.kind !== 'hold') throw new IdempotencyKeyReused();
  return { hold: resource.hold, replayed };
};

const once = async (
  ctx: IdempotencyContext,
  scope: IdempotencyScope | undefined,
  run: (claim: Claimed) => Promise<Resource>,
): Promise<{ resource: Resource; replayed: boolean }> => {
  if (!scope) return { resource: await run({ kind: 'claimed' }), replayed: false };

  await releaseOwnOrphans(ctx.ledger, scope);
  let claim: IdempotencyClaim;
  try {
    claim = await ctx.ledger.claimIdempotency(scope, claimTimes(ctx));
  } catch (err) {
    // The claim may have been written before its reply was lost: free it (a release
    // with this request's token touches nothing else) rather than leave it orphaned.
    if (err instanceof ServiceUnavailable) await release(ctx, scope);
    throw err;
  }
  switch (claim.kind) {
    case 'mismatch':
      throw new IdempotencyKeyReused();
    case 'in_use':
      throw new IdempotencyKeyInUse();
    case 'replay':
      if (claim.outcome.kind === 'error') throw DomainError.replay(claim.outcome.error);
      return { resource: claim.outcome, replayed: true };
    case 'claimed':
      break;
  }

  try {
    return { resource: await run(claim), replayed: false };
  } catch (err) {
    if (isFinalOutcome(err)) {
      try {
        await ctx.ledger.completeIdempotency(scope, { kind: 'error', error: err.snapshot() });
      } catch {
        // The outcome could not be made final; let the retry decide again.
        await release(ctx, scope);
        throw new ServiceUnavailable();
      }
    } else {
      await release(ctx, scope);
    }
    throw err;
  }
};

/**
 * The fast path: with a key and a ledger that can (`fast`), `step(claim)` claims a new
 * key inside its own atomic step, so it is one round trip when it succeeds. Anything
 * else — no fast path, a failed `precheck`, a key already on record, any refusal
 * (which rolled back and recorded nothing) — goes the `regular` way, which decides
 * and records the outcome under a separate claim.
 */
const fastOnce = async <R>(
  ctx: IdempotencyContext,
  scope: IdempotencyScope | undefined,
  fast: boolean | undefined,
  step: (claim: ClaimTimes) => Promise<R>,
  precheck: () => void,
  regular: () => Promise<R & { replayed: boolean }>,
): Promise<R & { replayed: boolean }> => {
  if (!scope || fast !== true) return regular();
  try {
    precheck();
  } catch {
    return regular();
  }
  try {
    return { ...(await step(claimTimes(ctx))), replayed: false };
  } catch (err) {
    if (err instanceof IdempotencyKeyInUse || isFinalOutcome(err)) return regular();
    throw err;
  }
};

/**
 * A withdrawal or transfer: `move(claim)` performs it in one atomic step that also
 * checks the profiles and the balance; `precheck` holds the checks that need no
 * storage (a transfer to oneself). With a key, the ledger's fast path (claimsWithMovement;
 * for a `capture`, claimsWithCapture) claims a new key inside the movement itself (see fastOnce).
 */
export const moveOnce = (
  ctx: IdempotencyContext,
  scope: IdempotencyScope | undefined,
  move: (claim?: ClaimTimes) => Promise<Transaction>,
  precheck: () => void = () => undefined,
  kind: 'movement' | 'capture' = 'movement',
): Promise<IdempotentResult> =>
  fastOnce(ctx, scope, kind === 'capture' ? ctx.ledger.claimsWithCapture : ctx.ledger.claimsWithMovement,
    async (claim) => ({ transaction: await move(claim) }), precheck,
    () => withIdempotency(ctx, scope, async () => {
      precheck();
      return move();
    }));

/** moveOnce for a hold's creation, with the ledger's claimsWithHold. */
export const holdOnce = (
  ctx: IdempotencyContext,
  scope: IdempotencyScope | undefined,
  create: (claim?: ClaimTimes) => Promise<Hold>,
  precheck: () => void = () => undefined,
): Promise<IdempotentHold> =>
  fastOnce(ctx, scope, ctx.ledger.claimsWithHold, async (claim) => ({ hold: await create(claim) }), precheck,
    () => withIdempotentHold(ctx, scope, async () => {
      precheck();
      return create();
    }));
