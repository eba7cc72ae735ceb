// Test databases on the shared local PostgreSQL: each suite family gets its own
// database (created if missing, never dropped by anyone else) and migrates it; the
// storage contract makes one per run and drops it afterwards.
import { Client } from 'pg';
import { parseConfig, type Config, type Settings } from '../../src/config';

export const PG_HOST = process.env.TEST_POSTGRES_HOST ?? '127.0.0.1';
export const PG_PORT = Number(process.env.TEST_POSTGRES_PORT ?? 5432);
export const PG_USER = process.env.TEST_POSTGRES_USER ?? 'postgres';

/**
 * The server settings for an API process started by a test (serverless-offline),
 * so TEST_POSTGRES_PORT=6432 sends it through PgBouncer too.
 */
export const pgServerEnv = (): Record<string, string> => ({
  POSTGRES_HOST: PG_HOST,
  POSTGRES_PORT: String(PG_PORT),
  POSTGRES_USER: PG_USER,
});

/** Creates `database` unless it exists; safe when several jest workers race to do it. */
export const ensureDatabase = async (database: string): Promise<void> => {
  const admin = new Client({ host: PG_HOST, port: PG_PORT, user: PG_USER, database: 'postgres', connectionTimeoutMillis: 5000 });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (rowCount) return;
    try {
      await admin.query(`CREATE DATABASE "${database.replace(/"/g, '""')}"`);
    } catch (err) {
      // 42P04 duplicate_database, or 23505 when two CREATEs race on the catalog.
      const code = (err as { code?: string }).code;
      if (code !== '42P04' && code !== '23505') throw err;
    }
  } finally {
    await admin.end();
  }
};

/** Drops `database` (closing whatever is still connected to it); for a suite's own per-run database. */
export const dropDatabase = async (database: string): Promise<void> => {
  const admin = new Client({ host: PG_HOST, port: PG_PORT, user: PG_USER, database: 'postgres', connectionTimeoutMillis: 5000 });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${database.replace(/"/g, '""')}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
};

/** A real Config for the adapter, pointing at `database` (optionally through a proxy port). */
export const pgTestConfig = (database: string, overrides: Settings = {}): Config =>
  parseConfig({
    AUTH_JWT_SECRET: 'test-secret-at-least-16-chars',
    STORAGE: 'postgres',
    POSTGRES_HOST: PG_HOST,
    POSTGRES_PORT: String(PG_PORT),
    POSTGRES_USER: PG_USER,
    POSTGRES_DB: database,
    POSTGRES_SYNC: 'true',
    POSTGRES_POOL_MAX: '8',
    ...overrides,
  });

/** A plain client on `database`, for assertions that bypass the adapter. */
export const directClient = async (database: string): Promise<Client> => {
  const c = new Client({ host: PG_HOST, port: PG_PORT, user: PG_USER, database });
  await c.connect();
  return c;
};
