import { openRedisStorage } from '../../src/adapters/redis';
import type { Storage } from '../../src/adapters/storage';
import { deleteKeysWithPrefix, redisTestConfig } from '../support/redis-test-env';
import { describeLedgerContract } from './ledger-contract';
import { describeOutboxContract } from './outbox-contract';

/** A store of its own (random key prefix) with events on. */
const openWithEvents = async (): Promise<{ storage: Storage; close: () => Promise<void> }> => {
  const config = redisTestConfig({ events: true });
  const storage = await openRedisStorage(config.redis);
  return {
    storage,
    close: async () => {
      await deleteKeysWithPrefix(config);
      await storage.close();
    },
  };
};

describeOutboxContract('redis', async () => {
  const { storage, close } = await openWithEvents();
  if (!storage.outbox) throw new Error('redis storage opened with events has no outbox');
  return { ledger: storage.ledger, users: storage.users, outbox: storage.outbox, close };
});

// Every change also writes its event: the ledger's behaviour must stay the same.
describeLedgerContract('redis, events on', async () => {
  const { storage, close } = await openWithEvents();
  return { ledger: storage.ledger, users: storage.users, close };
});
