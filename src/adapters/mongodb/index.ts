// STORAGE=mongodb: the Ledger, UserStore and HealthCheck on the official driver, and
// the Outbox when events are on. Collections, validators and indexes are created by
// migrate (npm run migrate), not on every cold start.
import type { Storage } from '../storage';
import { mongoCollections } from './mongo-collections';
import { guarded } from './mongo-errors';
import { closeSharedMongoClient, sharedMongoClient, type MongoSettings } from './mongo-client';
import { makeMongoLedger } from './mongo-ledger';
import { makeMongoOutbox } from './mongo-outbox';
import { retryPolicy } from './mongo-transaction';
import { makeMongoUserStore } from './mongo-user-store';

export type { MongoSettings } from './mongo-client';

export const openMongoStorage = async (settings: MongoSettings): Promise<Storage> => {
  const client = await sharedMongoClient(settings);
  const db = client.db(settings.database);
  const collections = mongoCollections(db);
  return {
    kind: 'mongodb',
    ledger: makeMongoLedger(client, collections, retryPolicy(settings.transactionTimeoutMs), { events: settings.events }),
    ...(settings.events && { outbox: makeMongoOutbox(collections) }),
    users: makeMongoUserStore(collections),
    health: {
      ping: () => guarded('ledger', async () => {
        await db.command({ ping: 1 });
      }),
    },
    close: () => closeSharedMongoClient(settings),
  };
};
