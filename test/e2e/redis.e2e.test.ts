import { randomUUID } from 'node:crypto';
import { describeWalletE2E } from './wallet-e2e';

// A fresh key prefix per run: the shared local Redis keeps other runs' data apart.
describeWalletE2E('redis', { env: { REDIS_KEY_PREFIX: `wallet-e2e-${randomUUID().slice(0, 8)}:` } });
