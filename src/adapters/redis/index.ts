import type { Redis } from 'ioredis';
import type { Config } from '../../config';
import type { Storage } from '../storage';
import { acquireRedisClient, waitUntilReady } from './redis-client';
import { redisCall } from './redis-errors';
import { redisKeys } from './redis-keys';
import { makeRedisLedger } from './redis-ledger';
import { makeRedisUserStore } from './redis-user-store';

/** The storage ports over an already-built client (its scripts defined by createRedisClient). */
export const makeRedisStorage = (client: Redis, keyPrefix: string, close: () => Promise<void>): Storage => {
  const keys = redisKeys(keyPrefix);
  return {
    kind: 'redis',
    ledger: makeRedisLedger(client, keys),
    users: makeRedisUserStore(client, keys),
    health: {
      ping: async () => {
        await redisCall(client.ping());
      },
    },
    close,
  };
};

/**
 * STORAGE=redis. Waits up to the connect timeout for the first connection; when Redis
 * is down it still returns the storage: calls answer 503 until the client reconnects
 * on its own, so a cold start during an outage needs no rebuild.
 */
export const openRedisStorage = async (config: Config): Promise<Storage> => {
  const { client, release } = acquireRedisClient(config.redis);
  await waitUntilReady(client, config.redis.connectTimeoutMs);
  return makeRedisStorage(client, config.redis.keyPrefix, release);
};
