// Row ↔ entity mapping, pure. int8 arrives as a string (pg) and is parsed exactly;
// timestamptz(3) arrives as a Date and leaves as an ISO string with milliseconds.
import { parseStoredAmount, type Balance, type Currency } from '../../core/money';
import type { IdempotencyOutcome } from '../../core/ports';
import type { Metadata, Transaction, TransactionStatus, TransactionType } from '../../core/transaction';
import type { UserProfile } from '../../core/user';

export interface TransactionRow {
  id: string;
  type: string;
  status: string;
  user_id: string;
  to_user_id: string | null;
  amount: string | number | bigint;
  currency: string;
  metadata: Metadata | string | null;
  payment_ref: string | null;
  created_at: Date | string;
  updated_at: Date | string;
}

export interface BalanceRow {
  currency: string;
  available: string | number | bigint;
}

export interface UserRow {
  id: string;
  email: string;
  name: string;
  created_at: Date | string;
}

export interface IdempotencyRow {
  fingerprint: string;
  state: 'in_flight' | 'open' | 'done';
  lease_until: Date | string;
  expires_at: Date | string;
  transaction_id: string | null;
  outcome: IdempotencyOutcome | string | null;
}

export const toIso = (v: Date | string): string => (v instanceof Date ? v : new Date(v)).toISOString();
export const toMs = (v: Date | string): number => (v instanceof Date ? v.getTime() : Date.parse(v));
const json = <T>(v: T | string): T => (typeof v === 'string' ? (JSON.parse(v) as T) : v);

export const toTransaction = (r: TransactionRow): Transaction => ({
  id: r.id,
  type: r.type as TransactionType,
  status: r.status as TransactionStatus,
  userId: r.user_id,
  ...(r.to_user_id !== null && { toUserId: r.to_user_id }),
  amount: parseStoredAmount(r.amount),
  currency: r.currency as Currency,
  metadata: r.metadata === null ? {} : json(r.metadata),
  createdAt: toIso(r.created_at),
  updatedAt: toIso(r.updated_at),
  ...(r.payment_ref !== null && { paymentRef: r.payment_ref }),
});

/** Parameters $1…$11 of INSERT_TRANSACTION. Amounts travel as decimal text, never as a float. */
export const transactionParams = (tx: Transaction): unknown[] => [
  tx.id, tx.type, tx.status, tx.userId, tx.toUserId ?? null, String(tx.amount), tx.currency,
  JSON.stringify(tx.metadata), tx.paymentRef ?? null, tx.createdAt, tx.updatedAt,
];

export const toBalance = (r: BalanceRow): Balance => ({
  currency: r.currency as Currency,
  available: parseStoredAmount(r.available),
});

export const toUserProfile = (r: UserRow): UserProfile => ({
  id: r.id,
  email: r.email,
  name: r.name,
  createdAt: toIso(r.created_at),
});

export const toOutcome = (r: IdempotencyRow): IdempotencyOutcome | null => (r.outcome === null ? null : json(r.outcome));
