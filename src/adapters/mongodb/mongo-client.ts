// One MongoClient per process, created on the first cold-start use and reused by
// warm invocations (the driver's Lambda guidance): a small pool, and a server
// selection timeout well below the function timeout so an unreachable cluster
// answers 503 instead of timing the function out.
import { MongoClient, type Document, type MongoClientOptions } from 'mongodb';
import { guarded } from './mongo-errors';

/** What STORAGE=mongodb needs (built by src/config.ts from the MONGODB_* variables). */
export interface MongoSettings {
  uri?: string | undefined;
  database: string;
  maxPoolSize: number;
  serverSelectionTimeoutMs: number;
  /** One deadline for a ledger transaction, every retry and commit retry included (mongo-transaction.ts). */
  transactionTimeoutMs: number;
  /** Every change writes its event into the outbox collection (EVENT_BUS_NAME is set). */
  events?: boolean | undefined;
}

/** Thrown at open when the deployment cannot run multi-document transactions. */
export class ReplicaSetRequired extends Error {
  constructor() {
    super(
      'STORAGE=mongodb needs a replica set or a sharded cluster (Atlas is either): the ledger uses ' +
        'multi-document transactions, which a standalone mongod does not support. Start mongod with ' +
        '--replSet and run rs.initiate() once (see docs/mongodb.md).',
    );
    this.name = 'ReplicaSetRequired';
  }
}

/** Decides from a `hello` reply whether transactions are available. */
export const assertTransactionsSupported = (hello: Document): void => {
  const replicaSet = typeof hello.setName === 'string' && hello.setName.length > 0;
  const mongos = hello.msg === 'isdbgrid';
  if (!replicaSet && !mongos) throw new ReplicaSetRequired();
};

export const clientOptions = (s: MongoSettings): MongoClientOptions => ({
  appName: 'wallet-service',
  maxPoolSize: s.maxPoolSize,
  minPoolSize: 0,
  // Lambda freezes between invocations; idle sockets are dropped rather than trusted.
  maxIdleTimeMS: 60_000,
  serverSelectionTimeoutMS: s.serverSelectionTimeoutMs,
  connectTimeoutMS: s.serverSelectionTimeoutMs,
  // Waiting for a pooled connection is bounded too (the driver's default, 0, waits forever):
  // a WaitQueueTimeoutError answers 503 (mongo-errors.ts).
  waitQueueTimeoutMS: s.serverSelectionTimeoutMs,
  // A socket that stops answering fails the call (503) before the function times out.
  socketTimeoutMS: Math.max(10_000, 3 * s.serverSelectionTimeoutMs),
  retryWrites: true,
  retryReads: true,
});

const clientKey = (s: MongoSettings): string =>
  JSON.stringify([s.uri, s.maxPoolSize, s.serverSelectionTimeoutMs]);

// Each esbuild bundle holds its own copy of this module; hanging the cache off
// globalThis keeps it to one client per process even so.
const CLIENTS = Symbol.for('wallet-service.mongodb-clients');
const cache = (): Map<string, Promise<MongoClient>> => {
  const g = globalThis as { [CLIENTS]?: Map<string, Promise<MongoClient>> };
  return (g[CLIENTS] ??= new Map());
};

const connect = async (s: MongoSettings): Promise<MongoClient> => {
  if (!s.uri) throw new Error('MONGODB_URI must be set when STORAGE=mongodb');
  const client = new MongoClient(s.uri, clientOptions(s));
  try {
    await guarded('ledger', async () => {
      await client.connect();
      assertTransactionsSupported(await client.db('admin').command({ hello: 1 }));
    });
    return client;
  } catch (err) {
    await client.close().catch(() => undefined);
    throw err;
  }
};

/** The process's client for these settings; a failed connection is not cached, so the next call tries again. */
export const sharedMongoClient = (s: MongoSettings): Promise<MongoClient> => {
  const key = clientKey(s);
  const clients = cache();
  let entry = clients.get(key);
  if (!entry) {
    const created = connect(s);
    entry = created;
    clients.set(key, created);
    created.catch(() => {
      if (clients.get(key) === created) clients.delete(key);
    });
  }
  return entry;
};

/** Closes and forgets the process's client for these settings (settings rotated, tests). */
export const closeSharedMongoClient = async (s: MongoSettings): Promise<void> => {
  const key = clientKey(s);
  const clients = cache();
  const entry = clients.get(key);
  if (!entry) return;
  clients.delete(key);
  await entry.then((c) => c.close()).catch(() => undefined);
};
