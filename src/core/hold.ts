// A hold reserves money now (available → held) and is captured, voided or expires later.
import { HoldExpired, InvalidStateTransition, type DomainError } from './errors';
import type { Currency } from './money';
import type { HistoryPosition, Metadata } from './transaction';

export const HOLD_STATUSES = ['held', 'captured', 'voided', 'expired'] as const;
export type HoldStatus = (typeof HOLD_STATUSES)[number];

/** `expiresInSeconds` when a request gives none, and the most it may ask for (7 days). */
export const DEFAULT_HOLD_SECONDS = 3_600;
export const MAX_HOLD_SECONDS = 604_800;

/** The Hold resource exactly as the API contract shows it. */
export interface Hold {
  id: string;
  /** The payer: whose money is held. */
  userId: string;
  /** The payee a capture credits; absent when a capture is a withdrawal. */
  toUserId?: string;
  amount: number;
  currency: Currency;
  capturedAmount: number;
  status: HoldStatus;
  expiresAt: string;
  /** The capture's transaction (captured holds only). */
  transactionId?: string;
  metadata: Metadata;
  createdAt: string;
  updatedAt: string;
}

/** A hold still `held` but past its expiry holds no money: it is expired, whether or not a store has released it yet. */
export const isExpiredAt = (hold: Pick<Hold, 'status' | 'expiresAt'>, now: string): boolean =>
  hold.status === 'held' && now >= hold.expiresAt;

/**
 * The hold as a reader sees it at `now`. A store releases expired holds lazily (in the
 * next movement of the payer, or the scheduled run), so every read passes through this:
 * the expiry took effect at `expiresAt`, which is also the time a release writes.
 */
export const holdAsOf = (hold: Hold, now: string): Hold =>
  isExpiredAt(hold, now) ? { ...hold, status: 'expired', updatedAt: hold.expiresAt } : hold;

/** Who may capture or void: the payee, or the payer when there is none. */
export const holdSettler = (hold: Pick<Hold, 'userId' | 'toUserId'>): string => hold.toUserId ?? hold.userId;

export const isHoldParty = (hold: Pick<Hold, 'userId' | 'toUserId'>, userId: string): boolean =>
  hold.userId === userId || hold.toUserId === userId;

/**
 * A capture's transaction names its hold's payer, payee and currency (CaptureInput);
 * a ledger that took its accounts from the transaction checks them with this. A
 * mismatch is a caller's bug, never a client's error.
 */
export const assertCaptureOf = (hold: Pick<Hold, 'userId' | 'toUserId' | 'currency'>, tx: Pick<Hold, 'userId' | 'toUserId' | 'currency'>): void => {
  if (tx.userId !== hold.userId || tx.toUserId !== hold.toUserId || tx.currency !== hold.currency) throw captureMismatch();
};
/** The error assertCaptureOf throws (also for a store that checks inside its own step). */
export const captureMismatch = (): Error => new Error('the capture\'s transaction does not name its hold\'s payer, payee and currency');

export interface HoldQuery {
  /** The payer. */
  userId: string;
  limit: number;
  /** Only holds strictly older than this position (newest first by createdAt, id). */
  before?: HistoryPosition;
  /** Matched against the status as of `now` (see holdAsOf). */
  status?: HoldStatus;
  now: string;
}

/**
 * Why a hold cannot be captured or voided at `now`, checked in this order inside the
 * store's atomic step: past its expiry (even if not yet released) → HoldExpired; any
 * other state than `held` → InvalidStateTransition. Null when it can.
 */
export const holdRefusal = (hold: Pick<Hold, 'status' | 'expiresAt'>, to: 'captured' | 'voided', now: string): DomainError | null => {
  if (isExpiredAt(hold, now) || hold.status === 'expired') return new HoldExpired();
  if (hold.status !== 'held') return new InvalidStateTransition(hold.status, to, 'hold', undefined);
  return null;
};
