import type { Redis } from 'ioredis';
import type { Storage } from '../storage';
import { acquireRedisClient, waitUntilReady, type RedisSettings } from './redis-client';
import { redisCall } from './redis-errors';
import { redisKeys } from './redis-keys';
import { makeRedisLedger } from './redis-ledger';
import { makeRedisOutbox } from './redis-outbox';
import { makeRedisUserStore } from './redis-user-store';

export type { RedisSettings } from './redis-client';

/**
 * The storage ports over an already-built client (its scripts defined by createRedisClient).
 * With `events`, the ledger writes every change's event and the storage has the outbox.
 */
export const makeRedisStorage = (client: Redis, keyPrefix: string, close: () => Promise<void>, options: { events?: boolean } = {}): Storage => {
  const keys = redisKeys(keyPrefix);
  const events = options.events ?? false;
  return {
    kind: 'redis',
    ledger: makeRedisLedger(client, keys, { events }),
    users: makeRedisUserStore(client, keys),
    ...(events && { outbox: makeRedisOutbox(client, keys) }),
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
export const openRedisStorage = async (settings: RedisSettings): Promise<Storage> => {
  const { client, release } = acquireRedisClient(settings);
  await waitUntilReady(client, settings.connectTimeoutMs);
  return makeRedisStorage(client, settings.keyPrefix, release, { events: settings.events ?? false });
};
