// A hold is stored as a hash, not JSON: a script changes its state (status,
// capturedAmount, transactionId, updatedAt) with HSET and never decodes or re-encodes
// anything. Amounts are integer strings; metadata is the one JSON-valued field. The
// `version` field (the hold's change count, for its events) is the store's own.
import type { Hold, HoldStatus } from '../../core/hold';
import { parseStoredAmount, type Currency } from '../../core/money';
import type { Metadata } from '../../core/transaction';

const integerString = (n: number): string => {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`amount ${n} is not a non-negative safe integer`);
  return String(n);
};

/** Field/value pairs for HSET, in Hold's order. */
export const holdFields = (h: Hold): string[] => [
  'id', h.id,
  'userId', h.userId,
  ...(h.toUserId !== undefined ? ['toUserId', h.toUserId] : []),
  'amount', integerString(h.amount),
  'currency', h.currency,
  'capturedAmount', integerString(h.capturedAmount),
  'status', h.status,
  'expiresAt', h.expiresAt,
  ...(h.transactionId !== undefined ? ['transactionId', h.transactionId] : []),
  'metadata', JSON.stringify(h.metadata),
  'createdAt', h.createdAt,
  'updatedAt', h.updatedAt,
];

/** The hold an HGETALL returned; null for a missing key (an empty reply). Keep holdJson (redis-outbox-scripts.ts) in step. */
export const parseHold = (r: Record<string, string>): Hold | null => {
  if (r.id === undefined) return null;
  const field = (name: string): string => {
    const v = r[name];
    if (v === undefined) throw new Error(`stored hold ${r.id} has no ${name}`);
    return v;
  };
  return {
    id: field('id'),
    userId: field('userId'),
    ...(r.toUserId !== undefined && { toUserId: r.toUserId }),
    amount: parseStoredAmount(field('amount')),
    currency: field('currency') as Currency,
    capturedAmount: parseStoredAmount(field('capturedAmount')),
    status: field('status') as HoldStatus,
    expiresAt: field('expiresAt'),
    ...(r.transactionId !== undefined && { transactionId: r.transactionId }),
    metadata: JSON.parse(field('metadata')) as Metadata,
    createdAt: field('createdAt'),
    updatedAt: field('updatedAt'),
  };
};

/** The hold as JSON, field for field as the API shows it (for idempotency outcomes). */
export const holdOutcomeJson = (hold: Hold): string => JSON.stringify({ kind: 'hold', hold });
