// The idempotency decision, written once: what a claim of a key finds, given the
// key's record and the time. Every Ledger adapter reads the record inside its own
// atomic step, asks decideClaim, and writes what the decision says; the Redis Lua
// script (redis-scripts.ts, claimIdempotency) mirrors it line for line.
import type { IdempotencyOutcome } from './ports';

/** The parts of a stored idempotency record the decision looks at. Times are epoch milliseconds. */
export interface ClaimRecord {
  fingerprint: string;
  state: 'in_flight' | 'open' | 'done';
  leaseUntil: number;
  expiresAt: number;
  /** What an earlier attempt created (a deposit to resume). */
  transactionId?: string | null;
  outcome?: IdempotencyOutcome | null;
}

export type ClaimDecision =
  /** No live record (none, or expired): store a brand-new in-flight claim, linking nothing. */
  | { kind: 'new' }
  /** Same request, finished: answer with its outcome, write nothing. */
  | { kind: 'replay'; outcome: IdempotencyOutcome }
  /** Same request, in flight under a live lease: write nothing. */
  | { kind: 'in_use' }
  /** Same request, released (after a 5xx) or its lease ran out (it died): claim it, keeping the linked transaction. */
  | { kind: 'take_over'; transactionId?: string }
  /** The key was used for another request: write nothing. */
  | { kind: 'mismatch' };

/**
 * Decides a claim of a key by a request with `fingerprint` at `now` (epoch ms).
 * The order matters: expiry first (an expired record is absent, whatever request it
 * was for), then the fingerprint (never replay another request's outcome), then the
 * state. A lease or expiry that ends exactly at `now` has ended.
 */
export const decideClaim = (record: ClaimRecord | null | undefined, fingerprint: string, now: number): ClaimDecision => {
  if (!record || record.expiresAt <= now) return { kind: 'new' };
  if (record.fingerprint !== fingerprint) return { kind: 'mismatch' };
  if (record.state === 'done' && record.outcome) return { kind: 'replay', outcome: record.outcome };
  if (record.state === 'in_flight' && record.leaseUntil > now) return { kind: 'in_use' };
  return record.transactionId ? { kind: 'take_over', transactionId: record.transactionId } : { kind: 'take_over' };
};
