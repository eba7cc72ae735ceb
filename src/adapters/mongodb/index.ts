// STORAGE=mongodb: the Ledger, UserStore and HealthCheck on the official driver.
// Indexes are created by migrate (npm run migrate), not on every cold start.
import type { Config } from '../../config';
import type { Storage } from '../storage';
import { mongoCollections } from './mongo-collections';
import { guarded } from './mongo-errors';
import { closeSharedMongoClient, sharedMongoClient } from './mongo-client';
import { makeMongoLedger } from './mongo-ledger';
import { makeMongoUserStore } from './mongo-user-store';

export const openMongoStorage = async (config: Config): Promise<Storage> => {
  const client = await sharedMongoClient(config.mongodb);
  const db = client.db(config.mongodb.database);
  const collections = mongoCollections(db);
  return {
    kind: 'mongodb',
    ledger: makeMongoLedger(client, collections),
    users: makeMongoUserStore(collections),
    health: {
      ping: () => guarded('ledger', async () => {
        await db.command({ ping: 1 });
      }),
    },
    close: () => closeSharedMongoClient(config.mongodb),
  };
};
