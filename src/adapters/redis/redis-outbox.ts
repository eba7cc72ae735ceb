// The Outbox port over Redis: the ledger's scripts write the events (redis-outbox-scripts.ts);
// relays claim, acknowledge and count them here, each in one script.
import type { Redis } from 'ioredis';
import type { WalletEvent } from '../../core/events';
import type { Outbox } from '../../core/ports';
import { redisCall } from './redis-errors';
import type { RedisKeys } from './redis-keys';
import { runScript } from './redis-scripts';

export const makeRedisOutbox = (client: Redis, keys: RedisKeys): Outbox => {
  const claimKeys = [keys.outbox(), keys.outboxEvents(), keys.outboxLeases()];
  return {
    async claimEvents({ limit, now, leaseUntil, token }) {
      if (limit < 1) return [];
      const events = (await redisCall(runScript(client, 'claimEvents', claimKeys, [String(limit), now, leaseUntil, token]))) as string[];
      return events.map((json) => JSON.parse(json) as WalletEvent);
    },
    async ackEvents(ids, token) {
      if (ids.length === 0) return;
      await redisCall(runScript(client, 'ackEvents', claimKeys, [token, ...ids]));
    },
    async backlog() {
      const [count, oldestAt] = (await redisCall(runScript(client, 'outboxBacklog', [keys.outbox(), keys.outboxEvents()], []))) as [number, string];
      return { count, ...(oldestAt !== '' && { oldestAt }) };
    },
  };
};
