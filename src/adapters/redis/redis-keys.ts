// The key layout, in one place. Every key starts with the configured prefix, so one
// Redis database can hold several stages (and test runs) side by side. For Redis
// Cluster, put a hash tag in the prefix (e.g. `{wallet}:`): see docs/redis.md.
import type { IdempotencyScope } from '../../core/ports';
import type { HistoryPosition } from '../../core/transaction';

export interface RedisKeys {
  user(id: string): string;
  /** Hash: currency → available, and `held:<currency>` → held (integer strings; see heldField). */
  balances(userId: string): string;
  /** String: the transaction as JSON. */
  transaction(id: string): string;
  /** Sorted set, all scores 0, members `${createdAt}|${id}`: lex order = (createdAt, id). */
  history(userId: string): string;
  /** Sorted set like history, of pending deposits only. */
  pendingDeposits(): string;
  /** Sorted set like history, of pending refunds (of deposits) only. */
  pendingRefunds(): string;
  /** Hash: one hold's fields (see redis-hold.ts). */
  hold(id: string): string;
  /** What hold(id) puts before the id: scripts that find hold ids in a set build the keys with it. */
  holdPrefix(): string;
  /** Sorted set of the holds a user pays, members like history's: `${createdAt}|${id}`, all scores 0. */
  holds(userId: string): string;
  /** Sorted set of the user's holds still stored `held`: member id, score expiresAt in ms. */
  liveHolds(userId: string): string;
  /** Sorted set of every hold still stored `held`, any payer: member id, score expiresAt in ms. */
  holdExpiries(): string;
  /** Hash: the idempotency record of one (caller, key). */
  idempotency(scope: Pick<IdempotencyScope, 'callerId' | 'key'>): string;
  /** String: the outbox's INCR counter, the commit order of its events. */
  outboxSequence(): string;
  /** Sorted set of the unpublished events: member event id, score its sequence number. */
  outbox(): string;
  /** Hash: event id → the event as JSON. */
  outboxEvents(): string;
  /** Hash: event id → `<leaseUntil> <token>` of the relay that claimed it. */
  outboxLeases(): string;
}

export const redisKeys = (prefix: string): RedisKeys => ({
  user: (id) => `${prefix}user:${id}`,
  balances: (userId) => `${prefix}bal:${userId}`,
  transaction: (id) => `${prefix}tx:${id}`,
  history: (userId) => `${prefix}hist:${userId}`,
  pendingDeposits: () => `${prefix}pending-deposits`,
  pendingRefunds: () => `${prefix}pending-refunds`,
  hold: (id) => `${prefix}hold:${id}`,
  holdPrefix: () => `${prefix}hold:`,
  holds: (userId) => `${prefix}holds:${userId}`,
  liveHolds: (userId) => `${prefix}holds-live:${userId}`,
  holdExpiries: () => `${prefix}holds-expiry`,
  // Length-prefixed, so no (caller, key) pair can spell another one.
  idempotency: ({ callerId, key }) => `${prefix}idem:${callerId.length}:${callerId}:${key}`,
  outboxSequence: () => `${prefix}outbox-seq`,
  outbox: () => `${prefix}outbox`,
  outboxEvents: () => `${prefix}outbox-events`,
  outboxLeases: () => `${prefix}outbox-leases`,
});

/** The keys every script that changes a transaction or hold takes after its own (passed with events off too: one KEYS layout). */
export const outboxKeys = (keys: RedisKeys): string[] => [keys.outboxSequence(), keys.outbox(), keys.outboxEvents()];

/**
 * ISO timestamps with milliseconds have a fixed width, so byte order of the member is
 * (createdAt, id) order: ZREVRANGEBYLEX pages newest first, exactly.
 */
export const historyMember = (p: HistoryPosition): string => `${p.createdAt}|${p.id}`;

export const idOfMember = (member: string): string => member.slice(member.indexOf('|') + 1);

/** The balances hash field of the money held in `currency` (no currency code contains ':'). */
export const heldField = (currency: string): string => `held:${currency}`;
