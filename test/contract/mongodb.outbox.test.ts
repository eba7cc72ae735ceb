// The outbox contract, and the storage contract once more with events on, against a real
// MongoDB replica set (or Atlas), each in a database of its own that is dropped
// afterwards. Needs MONGODB_URI; without it the suite is reported as skipped, loudly,
// never as a silent pass. (Without a server: test/unit/mongodb-outbox.test.ts.)
import { randomUUID } from 'node:crypto';
import { parseConfig } from '../../src/config';
import { openMongoStorage } from '../../src/adapters/mongodb';
import { migrateMongo } from '../../src/adapters/mongodb/migrate';
import { sharedMongoClient } from '../../src/adapters/mongodb/mongo-client';
import { describeLedgerContract } from './ledger-contract';
import { describeOutboxContract, type OutboxFixture } from './outbox-contract';

const uri = process.env.MONGODB_URI;

/** A migrated database of its own, opened with events on. */
const openWithEvents = async (): Promise<OutboxFixture> => {
  const config = parseConfig({
    STORAGE: 'mongodb',
    MONGODB_URI: uri,
    MONGODB_DB: `wallet_test_${randomUUID().replace(/-/g, '').slice(0, 16)}`,
    MONGODB_MAX_POOL_SIZE: '10',
    MONGODB_SERVER_SELECTION_TIMEOUT_MS: '5000',
    AUTH_JWT_SECRET: 'contract-suite-secret-0123456789',
    EVENT_BUS_NAME: 'wallet-contract-suite',
  });
  const client = await sharedMongoClient(config.mongodb);
  const db = client.db(config.mongodb.database);
  await migrateMongo(db);
  const storage = await openMongoStorage(config.mongodb);
  if (!storage.outbox) throw new Error('EVENT_BUS_NAME is set, yet the MongoDB storage has no outbox');
  return {
    ledger: storage.ledger,
    users: storage.users,
    outbox: storage.outbox,
    close: async () => {
      await db.dropDatabase().catch(() => undefined);
      await storage.close();
    },
  };
};

if (!uri) {
  console.warn(
    'SKIPPED: MongoDB outbox suite — MONGODB_URI is not set. Run it against a replica set or Atlas: ' +
      'MONGODB_URI="mongodb://127.0.0.1:27017/?replicaSet=rs0" npx jest test/contract/mongodb.outbox.test.ts (see docs/mongodb.md)',
  );
  describe.skip('outbox contract: mongodb (MONGODB_URI is not set)', () => {
    it.skip('runs the outbox contract and the storage contract with events on against MongoDB', () => undefined);
  });
} else {
  describeOutboxContract('mongodb', openWithEvents);
  describeLedgerContract('mongodb, events on', openWithEvents);
}
