// Redis settings for tests: the local server, a random key prefix per run, and a
// teardown that deletes only that prefix's keys (the server is shared).
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { parseConfig, type Config } from '../../src/config';

export const redisTestConfig = (overrides: Partial<Config['redis']> = {}): Config => {
  const base = parseConfig({ AUTH_JWT_SECRET: 'test-secret-0123456789', STORAGE: 'redis', REDIS_HOST: process.env.REDIS_HOST, REDIS_PORT: process.env.REDIS_PORT });
  return { ...base, redis: { ...base.redis, keyPrefix: `${base.redis.keyPrefix}test-${randomUUID()}:`, ...overrides } };
};

const globEscape = (s: string): string => s.replace(/[*?[\]\\]/g, '\\$&');

/** Deletes every key under `prefix` with a separate connection. */
export const deleteKeysWithPrefix = async (config: Config, prefix = config.redis.keyPrefix): Promise<number> => {
  const admin = new Redis({ host: config.redis.host, port: config.redis.port, db: config.redis.db, lazyConnect: true });
  await admin.connect();
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, found] = await admin.scan(cursor, 'MATCH', `${globEscape(prefix)}*`, 'COUNT', 1000);
      cursor = next;
      if (found.length > 0) deleted += await admin.unlink(...found);
    } while (cursor !== '0');
  } finally {
    admin.disconnect();
  }
  return deleted;
};
