import { openRedisStorage } from '../../src/adapters/redis';
import { deleteKeysWithPrefix, redisTestConfig } from '../support/redis-test-env';
import { describeLedgerContract } from './ledger-contract';

describeLedgerContract('redis', async () => {
  const config = redisTestConfig();
  const storage = await openRedisStorage(config.redis);
  return {
    ledger: storage.ledger,
    users: storage.users,
    close: async () => {
      await deleteKeysWithPrefix(config);
      await storage.close();
    },
  };
});
