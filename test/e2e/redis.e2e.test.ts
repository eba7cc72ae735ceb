import { randomUUID } from 'node:crypto';
import { deleteKeysWithPrefix, redisTestConfig } from '../support/redis-test-env';
import { describeWalletE2E } from './wallet-e2e';

// A fresh key prefix per run keeps the shared local Redis's other data apart.
const prefix = `wallet-e2e-${randomUUID().slice(0, 8)}:`;
describeWalletE2E('redis', {
  env: { REDIS_KEY_PREFIX: prefix },
  cleanup: async () => {
    await deleteKeysWithPrefix(redisTestConfig({ keyPrefix: prefix }));
  },
});
