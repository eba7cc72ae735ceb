import type { Currency } from './money';
import { InvalidStateTransition, RefundExceedsAmount, type DomainError } from './errors';

export const TRANSACTION_TYPES = ['deposit', 'withdrawal', 'transfer', 'refund'] as const;
export type TransactionType = (typeof TRANSACTION_TYPES)[number];
export const TRANSACTION_STATUSES = ['pending', 'completed', 'failed'] as const;
export type TransactionStatus = (typeof TRANSACTION_STATUSES)[number];
export type FinalStatus = Exclude<TransactionStatus, 'pending'>;

export type Metadata = Record<string, string>;

/** The Transaction resource exactly as the API contract shows it. */
export interface Transaction {
  id: string;
  type: TransactionType;
  status: TransactionStatus;
  /** Owner; for a transfer, the sender. */
  userId: string;
  /** Recipient, transfers only. */
  toUserId?: string;
  amount: number;
  currency: Currency;
  metadata: Metadata;
  createdAt: string;
  updatedAt: string;
  /**
   * Deposits, withdrawals and transfers: how much of it refunds took back (completed and
   * pending refunds; a failed one gives its amount back). Absent on refunds; a store
   * written before refunds existed may omit it, which reads as 0.
   */
  refundedAmount?: number;
  /** The hold this transaction captured. */
  holdId?: string;
  /** Refunds: the transaction refunded. */
  refundOf?: string;
  /** Internal: the payment gateway's id for a deposit or a deposit refund. Never shown to callers. */
  paymentRef?: string;
}

/** What a refund may take back from. */
export const REFUNDABLE_TYPES: readonly TransactionType[] = ['deposit', 'withdrawal', 'transfer'];

/** How much of `tx` refunds can still take back (0 for what cannot be refunded). */
export const refundableAmount = (tx: Transaction): number =>
  REFUNDABLE_TYPES.includes(tx.type) ? tx.amount - (tx.refundedAmount ?? 0) : 0;

/**
 * A completed withdrawal or transfer as the request that created it was answered,
 * rebuilt from the transaction as stored now: such a movement is created completed,
 * unrefunded and unchanged (updatedAt = createdAt), and later only refunds
 * (refundedAmount) and an admin's metadata edit change it. `metadata`: what it was
 * created with. Lets a store keep a movement's idempotency record without a copy of it.
 */
export const movementAsCreated = (tx: Transaction, metadata: Metadata): Transaction => ({
  ...tx, status: 'completed', refundedAmount: 0, updatedAt: tx.createdAt, metadata,
});

/** The only moves of the state machine: pending → completed | failed. */
export const assertTransition = (from: TransactionStatus, to: TransactionStatus): to is FinalStatus => {
  if (from !== 'pending' || to === 'pending') throw new InvalidStateTransition(from, to);
  return true;
};

export const isParty = (tx: Transaction, userId: string): boolean =>
  tx.userId === userId || tx.toUserId === userId;

/** Position of a transaction in a history ordered by (createdAt, id). */
export interface HistoryPosition {
  createdAt: string;
  id: string;
}

/** Newest first: true when `a` sorts after (is older than) `b`. */
export const isOlderThan = (a: HistoryPosition, b: HistoryPosition): boolean =>
  a.createdAt < b.createdAt || (a.createdAt === b.createdAt && a.id < b.id);

export const compareNewestFirst = (a: HistoryPosition, b: HistoryPosition): number =>
  isOlderThan(a, b) ? 1 : isOlderThan(b, a) ? -1 : 0;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[47][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
export const isTransactionId = (id: unknown): id is string => typeof id === 'string' && UUID.test(id);

/**
 * Why `tx` cannot take a refund of `amount`, checked in this order inside the store's
 * atomic step: not a completed deposit, withdrawal or transfer → InvalidStateTransition;
 * more than what is left → RefundExceedsAmount. Null when it can.
 */
export const refundRefusal = (tx: Transaction, amount: number): DomainError | null => {
  if (!REFUNDABLE_TYPES.includes(tx.type) || tx.status !== 'completed') {
    return new InvalidStateTransition(tx.status, 'refunded', tx.type, undefined);
  }
  const left = refundableAmount(tx);
  return amount > left ? new RefundExceedsAmount(left) : null;
};
