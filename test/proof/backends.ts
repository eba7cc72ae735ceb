// The storages the proof suites run against, each with its own isolated data on the
// shared local servers: a fresh PGlite directory, a PostgreSQL database of the
// suite's own, a random Redis key prefix, a throwaway MongoDB database.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDatabase, pgServerEnv } from '../support/postgres';
import { deleteKeysWithPrefix, redisTestConfig } from '../support/redis-test-env';
import { startOffline, type OfflineServer } from '../support/offline';

export interface Backend {
  storage: string;
  env: Record<string, string>;
  /** Before the server starts. */
  prepare?: () => Promise<void>;
  /** After the server stopped. */
  cleanup?: () => Promise<void>;
  /** Set when the backend cannot run here: the suite is skipped, loudly. */
  skipped?: string;
  /** For fault injection: the PostgreSQL database or Redis key prefix. */
  database?: string;
  keyPrefix?: string;
}

export const JWT_SECRET = 'proof-secret-at-least-32-characters-long';

export const memoryBackend = (): Backend => ({ storage: 'memory', env: {} });

export const pgliteBackend = (): Backend => {
  const dir = mkdtempSync(join(tmpdir(), 'wallet-proof-pglite-'));
  return { storage: 'pglite', env: { DATA_DIR: dir }, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
};

export const postgresBackend = (database: string): Backend => ({
  storage: 'postgres',
  database,
  env: { ...pgServerEnv(), POSTGRES_DB: database, POSTGRES_SYNC: 'true' },
  prepare: () => ensureDatabase(database),
});

export const redisBackend = (): Backend => {
  const prefix = `wallet-proof-${randomUUID().slice(0, 8)}:`;
  return {
    storage: 'redis',
    keyPrefix: prefix,
    env: { REDIS_KEY_PREFIX: prefix },
    cleanup: async () => {
      await deleteKeysWithPrefix(redisTestConfig({ keyPrefix: prefix }));
    },
  };
};

export const mongodbBackend = (): Backend => {
  const uri = process.env.MONGODB_URI;
  const database = `wallet_proof_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  if (!uri) {
    return {
      storage: 'mongodb',
      env: {},
      skipped: 'MONGODB_URI is not set. Run it against a replica set or Atlas: MONGODB_URI="mongodb://127.0.0.1:27017/?replicaSet=rs0" npx jest test/proof',
    };
  }
  return {
    storage: 'mongodb',
    database,
    env: { MONGODB_URI: uri, MONGODB_DB: database },
    cleanup: async () => {
      const { MongoClient } = await import('mongodb');
      const client = new MongoClient(uri);
      try {
        await client.db(database).dropDatabase();
      } finally {
        await client.close();
      }
    },
  };
};

/** `describe` for a backend, or a loud SKIPPED line and a skipped test when it cannot run here. */
export const describeOn = (title: string, backend: Backend, body: () => void): void => {
  if (backend.skipped) {
    console.warn(`SKIPPED: ${title} on ${backend.storage} — ${backend.skipped}`);
    describe.skip(`${title} (STORAGE=${backend.storage}: ${backend.skipped})`, () => {
      it.skip(`runs ${title} against ${backend.storage}`, () => undefined);
    });
    return;
  }
  describe(`${title} (serverless-offline, STORAGE=${backend.storage})`, body);
};

/** Starts serverless-offline on the backend with the proof's JWT secret and quiet logs. */
export const startProofServer = async (backend: Backend, extraEnv: Record<string, string> = {}): Promise<OfflineServer> => {
  await backend.prepare?.();
  process.env.AUTH_JWT_SECRET = JWT_SECRET;
  return startOffline({ STORAGE: backend.storage, AUTH_JWT_SECRET: JWT_SECRET, LOG_LEVEL: 'ERROR', ...backend.env, ...extraEnv });
};

/** A small deterministic PRNG (mulberry32), so a failing run can be replayed with PROOF_SEED. */
export const prng = (seed: number): (() => number) => {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

export const seedFromEnv = (): number => {
  const fromEnv = Number(process.env.PROOF_SEED);
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : Math.floor(Math.random() * 2 ** 31) + 1;
};
