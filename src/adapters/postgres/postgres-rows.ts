// Row ↔ entity mapping, pure. int8 arrives as a string (pg) and is parsed exactly;
// timestamptz(3) arrives as a Date and leaves as an ISO string with milliseconds.
import type { EventResource, EventType, WalletEvent } from '../../core/events';
import type { Hold, HoldStatus } from '../../core/hold';
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
  refunded_amount: string | number | bigint;
  hold_id: string | null;
  refund_of: string | null;
}

export interface BalanceRow {
  currency: string;
  available: string | number | bigint;
  held: string | number | bigint;
}

export interface HoldRow {
  id: string;
  user_id: string;
  to_user_id: string | null;
  amount: string | number | bigint;
  currency: string;
  captured_amount: string | number | bigint;
  status: string;
  expires_at: Date | string;
  transaction_id: string | null;
  metadata: Metadata | string | null;
  created_at: Date | string;
  updated_at: Date | string;
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

export interface OutboxRow {
  seq: string | number | bigint;
  id: string;
  type: string;
  occurred_at: Date | string;
  version: number;
  resource: EventResource | string;
}

export const toIso = (v: Date | string): string => (v instanceof Date ? v : new Date(v)).toISOString();
export const toMs = (v: Date | string): number => (v instanceof Date ? v.getTime() : Date.parse(v));
const json = <T>(v: T | string): T => (typeof v === 'string' ? (JSON.parse(v) as T) : v);

export const toMetadata = (m: Metadata | string | null): Metadata => (m === null ? {} : json(m));

export const toTransaction = (r: TransactionRow): Transaction => ({
  id: r.id,
  type: r.type as TransactionType,
  status: r.status as TransactionStatus,
  userId: r.user_id,
  ...(r.to_user_id !== null && { toUserId: r.to_user_id }),
  amount: parseStoredAmount(r.amount),
  currency: r.currency as Currency,
  metadata: toMetadata(r.metadata),
  createdAt: toIso(r.created_at),
  updatedAt: toIso(r.updated_at),
  // Every deposit, withdrawal and transfer carries it (0 for rows older than refunds); a refund does not.
  ...(r.type !== 'refund' && { refundedAmount: parseStoredAmount(r.refunded_amount) }),
  ...(r.hold_id !== null && { holdId: r.hold_id }),
  ...(r.refund_of !== null && { refundOf: r.refund_of }),
  ...(r.payment_ref !== null && { paymentRef: r.payment_ref }),
});

/** Parameters $1…$11 of INSERT_TRANSACTION. Amounts travel as decimal text, never as a float. */
export const transactionParams = (tx: Transaction): unknown[] => [
  tx.id, tx.type, tx.status, tx.userId, tx.toUserId ?? null, String(tx.amount), tx.currency,
  JSON.stringify(tx.metadata), tx.paymentRef ?? null, tx.createdAt, tx.updatedAt,
];

/** Parameters $1…$13 of INSERT_LINKED_TRANSACTION: a capture's hold, a refund's original. */
export const linkedTransactionParams = (tx: Transaction): unknown[] => [...transactionParams(tx), tx.holdId ?? null, tx.refundOf ?? null];

export const toBalance = (r: BalanceRow): Balance => ({
  currency: r.currency as Currency,
  available: parseStoredAmount(r.available),
  held: parseStoredAmount(r.held),
});

export const toHold = (r: HoldRow): Hold => ({
  id: r.id,
  userId: r.user_id,
  ...(r.to_user_id !== null && { toUserId: r.to_user_id }),
  amount: parseStoredAmount(r.amount),
  currency: r.currency as Currency,
  capturedAmount: parseStoredAmount(r.captured_amount),
  status: r.status as HoldStatus,
  expiresAt: toIso(r.expires_at),
  ...(r.transaction_id !== null && { transactionId: r.transaction_id }),
  metadata: toMetadata(r.metadata),
  createdAt: toIso(r.created_at),
  updatedAt: toIso(r.updated_at),
});

/** Parameters $1…$12 of INSERT_HOLD. */
export const holdParams = (h: Hold): unknown[] => [
  h.id, h.userId, h.toUserId ?? null, String(h.amount), h.currency, String(h.capturedAmount), h.status, h.expiresAt,
  h.transactionId ?? null, JSON.stringify(h.metadata), h.createdAt, h.updatedAt,
];

export const toUserProfile = (r: UserRow): UserProfile => ({
  id: r.id,
  email: r.email,
  name: r.name,
  createdAt: toIso(r.created_at),
});

/** A movement that carries its idempotency key (migration 0005), as the claim reads it. */
export interface KeyedMovementRow extends TransactionRow {
  idempotency_fingerprint: string;
  first_metadata: Metadata | string | null;
}

export const toOutcome = (r: IdempotencyRow): IdempotencyOutcome | null => (r.outcome === null ? null : json(r.outcome));

/** An outbox entry as an event; its resource was written by the ledger in the resource's own shape. */
export const toEvent = (r: OutboxRow): WalletEvent => ({
  id: r.id,
  type: r.type as EventType,
  occurredAt: toIso(r.occurred_at),
  version: Number(r.version),
  resource: json(r.resource),
});
