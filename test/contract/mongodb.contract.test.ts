// The shared storage contract against a real MongoDB replica set (or Atlas), in a
// database of its own that is dropped afterwards. Needs MONGODB_URI; without it the
// suite is reported as skipped, loudly, never as a silent pass.
import { randomUUID } from 'node:crypto';
import { parseConfig } from '../../src/config';
import { openMongoStorage } from '../../src/adapters/mongodb';
import { migrateMongo } from '../../src/adapters/mongodb/migrate';
import { sharedMongoClient } from '../../src/adapters/mongodb/mongo-client';
import { describeLedgerContract } from './ledger-contract';

const uri = process.env.MONGODB_URI;

if (!uri) {
  console.warn(
    'SKIPPED: MongoDB contract suite — MONGODB_URI is not set. Run it against a replica set or Atlas: ' +
      'MONGODB_URI="mongodb://127.0.0.1:27017/?replicaSet=rs0" npx jest test/contract/mongodb.contract.test.ts (see docs/mongodb.md)',
  );
  describe.skip('storage contract: mongodb (MONGODB_URI is not set)', () => {
    it.skip('runs the shared storage contract against MongoDB', () => undefined);
  });
} else {
  describeLedgerContract('mongodb', async () => {
    const config = parseConfig({
      STORAGE: 'mongodb',
      MONGODB_URI: uri,
      MONGODB_DB: `wallet_test_${randomUUID().replace(/-/g, '').slice(0, 16)}`,
      // Enough connections for the suite's 200 concurrent transfers to interleave.
      MONGODB_MAX_POOL_SIZE: '10',
      MONGODB_SERVER_SELECTION_TIMEOUT_MS: '5000',
      AUTH_JWT_SECRET: 'contract-suite-secret-0123456789',
    });
    const client = await sharedMongoClient(config.mongodb);
    const db = client.db(config.mongodb.database);
    await migrateMongo(db);
    const storage = await openMongoStorage(config.mongodb);
    return {
      ledger: storage.ledger,
      users: storage.users,
      close: async () => {
        await db.dropDatabase().catch(() => undefined);
        await storage.close();
      },
    };
  });
}
