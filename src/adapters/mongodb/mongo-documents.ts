// Document shapes of the MongoDB collections and the pure mappers between them and
// the core's entities. Amounts are BSON Int64 (`Long`) on the way in and are read
// back through parseStoredAmount, so no double ever holds a balance.
import { Long, type Filter } from 'mongodb';
import type { ErrorSnapshot } from '../../core/errors';
import type { Hold } from '../../core/hold';
import { isCurrency, MAX_BALANCE, parseStoredAmount, type Balance } from '../../core/money';
import type { IdempotencyOutcome, IdempotencyScope } from '../../core/ports';
import { REFUNDABLE_TYPES, type Metadata, type Transaction } from '../../core/transaction';
import type { UserProfile } from '../../core/user';

export interface UserDoc {
  /** The user id (the token's `sub`): unique by construction. */
  _id: string;
  email: string;
  name: string;
  createdAt: Date;
}

export interface BalanceDoc {
  /** Deterministic, so {userId, currency} is unique even before migrate has run. */
  _id: string;
  userId: string;
  currency: string;
  available: Long;
  /** The sum of the user's holds still stored `held` in this currency; absent on balances stored before holds (reads as 0). */
  held?: Long;
}

/**
 * Metadata keys come from callers and may contain '.' or start with '$', which
 * MongoDB treats specially in field names; stored as pairs they are plain values.
 */
export type MetadataDoc = { k: string; v: string }[];

export interface TransactionDoc {
  _id: string;
  type: Transaction['type'];
  status: Transaction['status'];
  userId: string;
  toUserId?: string;
  /** Every user whose history shows this transaction (multikey index for paging). */
  parties: string[];
  amount: Long;
  currency: string;
  metadata: MetadataDoc;
  createdAt: Date;
  updatedAt: Date;
  paymentRef?: string;
  /** Deposits, withdrawals and transfers; absent on documents stored before refunds (reads as 0). */
  refundedAmount?: Long;
  holdId?: string;
  refundOf?: string;
  /** The change counter (mongo-changes.ts): 1 when inserted; absent on documents stored before it. */
  version?: number | Long;
}

export interface HoldDoc {
  _id: string;
  userId: string;
  toUserId?: string;
  amount: Long;
  currency: string;
  capturedAmount: Long;
  /** As stored: a `held` hold past expiresAt reads as expired (holdAsOf) until it is released. */
  status: Hold['status'];
  expiresAt: Date;
  transactionId?: string;
  metadata: MetadataDoc;
  createdAt: Date;
  updatedAt: Date;
  /** As for transactions. */
  version?: number | Long;
}

export type OutcomeDoc =
  | { kind: 'transaction'; transaction: TransactionDoc }
  | { kind: 'hold'; hold: HoldDoc }
  | { kind: 'error'; error: ErrorSnapshot };

export interface IdempotencyDoc {
  /** Deterministic from (callerId, key): a second insert of the same key is a duplicate key error. */
  _id: string;
  callerId: string;
  key: string;
  fingerprint: string;
  /**
   * The token of the request that claimed (or took over) the key last. Writes for the
   * key happen only while the record is in flight with the writer's token; a record
   * stored before tokens existed has none and so is held by no request.
   */
  token: string;
  state: 'in_flight' | 'open' | 'done';
  leaseUntil: Date;
  /** BSON Date so the TTL index can remove expired records. */
  expiresAt: Date;
  transactionId?: string;
  outcome?: OutcomeDoc;
}

/** JSON of an array cannot collide for different pairs, whatever characters the parts hold. */
export const balanceId = (userId: string, currency: string): string => JSON.stringify([userId, currency]);
export const idempotencyId = (scope: Pick<IdempotencyScope, 'callerId' | 'key'>): string =>
  JSON.stringify([scope.callerId, scope.key]);

/** A safe integer as Int64, built from a bigint so no float conversion is involved. */
export const toLong = (amount: number): Long => {
  if (!Number.isSafeInteger(amount)) throw new RangeError(`Amount ${amount} is not a safe integer`);
  return Long.fromBigInt(BigInt(amount));
};

/** Reads an Int64 (Long or bigint) or a promoted int32 as an exact integer; rejects anything else. */
export const readAmount = (raw: unknown): number => {
  if (Long.isLong(raw)) return parseStoredAmount(raw.toBigInt());
  if (typeof raw === 'bigint' || typeof raw === 'number') return parseStoredAmount(raw);
  throw new RangeError(`Stored amount has an unexpected type (${typeof raw})`);
};

/** True when a stored amount (Int64, bigint or int32) is above MAX_BALANCE, compared without a float. */
export const exceedsMaxBalance = (raw: unknown): boolean => {
  if (Long.isLong(raw)) return raw.toBigInt() > BigInt(MAX_BALANCE);
  if (typeof raw === 'bigint' || (typeof raw === 'number' && Number.isInteger(raw))) return BigInt(raw) > BigInt(MAX_BALANCE);
  throw new RangeError(`Stored amount has an unexpected type (${typeof raw})`);
};

/** BSON dates hold milliseconds exactly, so an ISO string with milliseconds round-trips. */
export const toDate = (iso: string): Date => {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) throw new RangeError(`Invalid timestamp ${iso}`);
  return d;
};
export const fromDate = (d: Date): string => d.toISOString();

export const toMetadataDoc = (m: Metadata): MetadataDoc => Object.entries(m).map(([k, v]) => ({ k, v }));
export const fromMetadataDoc = (doc: MetadataDoc | undefined): Metadata =>
  Object.fromEntries((doc ?? []).map(({ k, v }) => [k, v]));

const currencyOf = (raw: string): Transaction['currency'] => {
  if (!isCurrency(raw)) throw new RangeError(`Stored currency ${raw} is not supported`);
  return raw;
};

export const toTransactionDoc = (tx: Transaction): TransactionDoc => ({
  _id: tx.id,
  type: tx.type,
  status: tx.status,
  userId: tx.userId,
  ...(tx.toUserId !== undefined && { toUserId: tx.toUserId }),
  parties: tx.toUserId !== undefined && tx.toUserId !== tx.userId ? [tx.userId, tx.toUserId] : [tx.userId],
  amount: toLong(tx.amount),
  currency: tx.currency,
  metadata: toMetadataDoc(tx.metadata),
  createdAt: toDate(tx.createdAt),
  updatedAt: toDate(tx.updatedAt),
  ...(tx.paymentRef !== undefined && { paymentRef: tx.paymentRef }),
  ...(REFUNDABLE_TYPES.includes(tx.type) && { refundedAmount: toLong(tx.refundedAmount ?? 0) }),
  ...(tx.holdId !== undefined && { holdId: tx.holdId }),
  ...(tx.refundOf !== undefined && { refundOf: tx.refundOf }),
});

export const fromTransactionDoc = (doc: TransactionDoc): Transaction => ({
  id: doc._id,
  type: doc.type,
  status: doc.status,
  userId: doc.userId,
  ...(doc.toUserId != null && { toUserId: doc.toUserId }),
  amount: readAmount(doc.amount),
  currency: currencyOf(doc.currency),
  metadata: fromMetadataDoc(doc.metadata),
  createdAt: fromDate(doc.createdAt),
  updatedAt: fromDate(doc.updatedAt),
  ...(doc.paymentRef != null && { paymentRef: doc.paymentRef }),
  ...(REFUNDABLE_TYPES.includes(doc.type) && { refundedAmount: doc.refundedAmount == null ? 0 : readAmount(doc.refundedAmount) }),
  ...(doc.holdId != null && { holdId: doc.holdId }),
  ...(doc.refundOf != null && { refundOf: doc.refundOf }),
});

export const toHoldDoc = (h: Hold): HoldDoc => ({
  _id: h.id,
  userId: h.userId,
  ...(h.toUserId !== undefined && { toUserId: h.toUserId }),
  amount: toLong(h.amount),
  currency: h.currency,
  capturedAmount: toLong(h.capturedAmount),
  status: h.status,
  expiresAt: toDate(h.expiresAt),
  ...(h.transactionId !== undefined && { transactionId: h.transactionId }),
  metadata: toMetadataDoc(h.metadata),
  createdAt: toDate(h.createdAt),
  updatedAt: toDate(h.updatedAt),
});

/** The hold as stored; readers pass it through holdAsOf. */
export const fromHoldDoc = (doc: HoldDoc): Hold => ({
  id: doc._id,
  userId: doc.userId,
  ...(doc.toUserId != null && { toUserId: doc.toUserId }),
  amount: readAmount(doc.amount),
  currency: currencyOf(doc.currency),
  capturedAmount: readAmount(doc.capturedAmount),
  status: doc.status,
  expiresAt: fromDate(doc.expiresAt),
  ...(doc.transactionId != null && { transactionId: doc.transactionId }),
  metadata: fromMetadataDoc(doc.metadata),
  createdAt: fromDate(doc.createdAt),
  updatedAt: fromDate(doc.updatedAt),
});

export const toUserDoc = (u: UserProfile): UserDoc => ({ _id: u.id, email: u.email, name: u.name, createdAt: toDate(u.createdAt) });
export const fromUserDoc = (doc: UserDoc): UserProfile => ({
  id: doc._id,
  email: doc.email,
  name: doc.name,
  createdAt: fromDate(doc.createdAt),
});

/** The balance as stored: `held` still counts holds past their expiry that nobody has released yet. */
export const fromBalanceDoc = (doc: Pick<BalanceDoc, 'currency' | 'available' | 'held'>): Balance => ({
  currency: currencyOf(doc.currency),
  available: readAmount(doc.available),
  held: doc.held == null ? 0 : readAmount(doc.held),
});

export const toOutcomeDoc = (o: IdempotencyOutcome): OutcomeDoc => {
  switch (o.kind) {
    case 'transaction':
      return { kind: 'transaction', transaction: toTransactionDoc(o.transaction) };
    case 'hold':
      return { kind: 'hold', hold: toHoldDoc(o.hold) };
    case 'error':
      return {
        kind: 'error',
        error: {
          code: o.error.code,
          message: o.error.message,
          ...(o.error.param !== undefined && { param: o.error.param }),
          ...(o.error.transactionId !== undefined && { transactionId: o.error.transactionId }),
        },
      };
  }
};

export const fromOutcomeDoc = (doc: OutcomeDoc): IdempotencyOutcome => {
  switch (doc.kind) {
    case 'transaction':
      return { kind: 'transaction', transaction: fromTransactionDoc(doc.transaction) };
    case 'hold':
      return { kind: 'hold', hold: fromHoldDoc(doc.hold) };
    case 'error':
      return {
        kind: 'error',
        error: {
          code: doc.error.code,
          message: doc.error.message,
          ...(doc.error.param != null && { param: doc.error.param }),
          ...(doc.error.transactionId != null && { transactionId: doc.error.transactionId }),
        },
      };
  }
};

/** A fresh in-flight claim of `scope`. */
export const newClaimDoc = (scope: IdempotencyScope, times: { leaseUntil: string; expiresAt: string }): IdempotencyDoc => ({
  _id: idempotencyId(scope),
  callerId: scope.callerId,
  key: scope.key,
  fingerprint: scope.fingerprint,
  token: scope.token,
  state: 'in_flight',
  leaseUntil: toDate(times.leaseUntil),
  expiresAt: toDate(times.expiresAt),
});

/**
 * Matches `scope`'s record only while the request behind `scope` still holds it: in
 * flight with its token. Not after a take-over (another token), a release (open), an
 * outcome (done), or when the key was never claimed (no record).
 */
export const heldIdempotencyFilter = (scope: IdempotencyScope): Filter<IdempotencyDoc> => ({
  _id: idempotencyId(scope),
  state: 'in_flight',
  token: scope.token,
});
