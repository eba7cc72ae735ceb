import type { Currency } from './money';
import { InvalidStateTransition } from './errors';

export const TRANSACTION_TYPES = ['deposit', 'withdrawal', 'transfer'] as const;
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
  /** Internal: the payment gateway's id for a deposit. Never shown to callers. */
  paymentRef?: string;
}


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
