// The key layout, in one place. Every key starts with the configured prefix, so one
// Redis database can hold several stages (and test runs) side by side. For Redis
// Cluster, put a hash tag in the prefix (e.g. `{wallet}:`): see docs/redis.md.
import type { IdempotencyScope } from '../../core/ports';
import type { HistoryPosition } from '../../core/transaction';

export interface RedisKeys {
  user(id: string): string;
  /** Hash: currency → available (integer string). */
  balances(userId: string): string;
  /** String: the transaction as JSON. */
  transaction(id: string): string;
  /** Sorted set, all scores 0, members `${createdAt}|${id}`: lex order = (createdAt, id). */
  history(userId: string): string;
  /** Sorted set like history, of pending deposits only. */
  pendingDeposits(): string;
  /** Hash: the idempotency record of one (caller, key). */
  idempotency(scope: Pick<IdempotencyScope, 'callerId' | 'key'>): string;
}

export const redisKeys = (prefix: string): RedisKeys => ({
  user: (id) => `${prefix}user:${id}`,
  balances: (userId) => `${prefix}bal:${userId}`,
  transaction: (id) => `${prefix}tx:${id}`,
  history: (userId) => `${prefix}hist:${userId}`,
  pendingDeposits: () => `${prefix}pending-deposits`,
  // Length-prefixed, so no (caller, key) pair can spell another one.
  idempotency: ({ callerId, key }) => `${prefix}idem:${callerId.length}:${callerId}:${key}`,
});

/**
 * ISO timestamps with milliseconds have a fixed width, so byte order of the member is
 * (createdAt, id) order: ZREVRANGEBYLEX pages newest first, exactly.
 */
export const historyMember = (p: HistoryPosition): string => `${p.createdAt}|${p.id}`;

export const idOfMember = (member: string): string => member.slice(member.indexOf('|') + 1);
