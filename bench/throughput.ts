// What the throughput benches share: the median and its spread over repeated runs, an
// operation's rate at a number of concurrent callers, by time or by count, and the run
// of one bench on PostgreSQL and then Redis.
import { randomUUID } from 'node:crypto';
import { parseConfig } from '../src/config';
import { ensureDatabase } from '../test/support/postgres';
import { deleteKeysWithPrefix } from '../test/support/redis-test-env';

export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

/** "median (min–max)", rounded. */
export const range = (xs: number[]): string => `${Math.round(median(xs))} (${Math.round(Math.min(...xs))}–${Math.round(Math.max(...xs))})`;

/** Calls of `op` per second, `concurrency` callers for `runMs`. */
export const rateFor = async (runMs: number, concurrency: number, op: (i: number) => Promise<unknown>): Promise<number> => {
  let done = 0;
  const until = Date.now() + runMs;
  await Promise.all(Array.from({ length: concurrency }, async (_, worker) => {
    for (let i = worker; Date.now() < until; i += concurrency) {
      await op(i);
      done++;
    }
  }));
  return done / (runMs / 1000);
};

/** Calls of `op` per second for `count` calls, at most `concurrency` in flight. */
export const rateOf = async (count: number, concurrency: number, op: (i: number) => Promise<unknown>): Promise<number> => {
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) await op(next++);
  }));
  return count / ((performance.now() - started) / 1000);
};

/**
 * `bench` on PostgreSQL (database `database`, created when missing) and then on Redis
 * (a fresh key prefix, whose keys are deleted afterwards); its rows in that order.
 */
export const onPostgresAndRedis = async (
  database: string,
  bench: (name: string, settings: Record<string, string>) => Promise<string[]>,
): Promise<string[]> => {
  await ensureDatabase(database);
  const prefix = `wallet-bench-${randomUUID().slice(0, 8)}:`;
  // The app's INFO lines (e.g. the outbox backlog) would land in the section's figures.
  const quiet = { LOG_LEVEL: 'WARN' };
  const rows = [
    ...(await bench('postgres', { ...quiet, STORAGE: 'postgres', POSTGRES_DB: database, POSTGRES_SYNC: 'true', POSTGRES_POOL_MAX: '16' })),
    ...(await bench('redis', { ...quiet, STORAGE: 'redis', REDIS_KEY_PREFIX: prefix })),
  ];
  await deleteKeysWithPrefix(parseConfig({ AUTH_JWT_SECRET: 'bench-secret-0123456789', STORAGE: 'redis', REDIS_KEY_PREFIX: prefix }));
  return rows;
};
