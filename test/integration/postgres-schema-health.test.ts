// A PostgreSQL stage whose database is missing or whose schema is behind the code:
// /health says 503 "unavailable", every route 503 service_unavailable (never 500),
// and one ERROR line says what to run. Also: text PostgreSQL cannot store is a 400,
// `npm run migrate` and POSTGRES_SYNC create a missing database, and the adapter
// keeps no session state (a pooler in transaction mode can multiplex it).
import '../support/memory-http-env';

import { randomUUID } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { Client } from 'pg';
import { openPostgresStorage } from '../../src/adapters/postgres';
import { runMigrations } from '../../src/adapters/postgres/migrate';
import { MIGRATIONS } from '../../src/adapters/postgres/migrations';
import { openPgExecutor } from '../../src/adapters/postgres/pg-executor';
import { uuidv7 } from '../../src/adapters/system/system-clock';
import { resetApp } from '../../src/composition-root';
import { InvalidRequest, ServiceUnavailable } from '../../src/core/errors';
import { logger } from '../../src/observability/logger';
import { call, expectError } from '../support/invoke';
import { ensureDatabase, PG_HOST, PG_PORT, PG_USER, pgTestConfig } from '../support/postgres';
import { userToken } from '../support/tokens';

const LATEST = Math.max(...MIGRATIONS.map((m) => m.version));
const admin = () => new Client({ host: PG_HOST, port: PG_PORT, user: PG_USER, database: 'postgres' });
const dropDatabase = async (database: string): Promise<void> => {
  const c = admin();
  await c.connect();
  try {
    await c.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
  } finally {
    await c.end();
  }
};
const databaseExists = async (database: string): Promise<boolean> => {
  const c = admin();
  await c.connect();
  try {
    return ((await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [database])).rowCount ?? 0) > 0;
  } finally {
    await c.end();
  }
};
/** A fresh database migrated only up to `version` (0: empty). */
const databaseAt = async (version: number): Promise<string> => {
  const database = `wallet_schema_${randomUUID().replace(/-/g, '').slice(0, 10)}`;
  await ensureDatabase(database);
  if (version > 0) {
    const db = openPgExecutor(pgTestConfig(database).postgres);
    await runMigrations(db, MIGRATIONS.filter((m) => m.version <= version));
    await db.close();
  }
  return database;
};

const created: string[] = [];
afterAll(async () => {
  await resetApp();
  for (const d of created) await dropDatabase(d).catch(() => undefined);
});

const errorLines = (spy: jest.SpyInstance): string[] => spy.mock.calls.map((c) => String(c[0]));

describe('postgres storage whose schema is behind the code', () => {
  it.each([
    ['one migration behind', LATEST - 1],
    ['never migrated', 0],
  ])('%s: ServiceUnavailable everywhere, one log line naming `npm run migrate`, healthy once migrated', async (_name, version) => {
    const database = await databaseAt(version);
    created.push(database);
    const log = jest.spyOn(logger, 'error').mockImplementation(() => undefined);
    const storage = await openPostgresStorage(pgTestConfig(database, { POSTGRES_SYNC: 'false' }).postgres);
    try {
      await expect(storage.health.ping()).rejects.toBeInstanceOf(ServiceUnavailable);
      await expect(storage.ledger.getBalances('someone')).rejects.toBeInstanceOf(ServiceUnavailable);
      await expect(storage.users.get('someone')).rejects.toBeInstanceOf(ServiceUnavailable);
      const lines = errorLines(log);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain('npm run migrate');
      expect(lines[0]).toContain(database);

      const db = openPgExecutor(pgTestConfig(database).postgres);
      await runMigrations(db);
      await db.close();
      // The same process recovers by itself.
      await expect(storage.health.ping()).resolves.toBeUndefined();
      await expect(storage.ledger.getBalances('someone')).resolves.toEqual([]);
    } finally {
      log.mockRestore();
      await storage.close();
    }
  });

  it('a database that does not exist: ServiceUnavailable with a log line naming it', async () => {
    const database = `wallet_missing_${randomUUID().replace(/-/g, '').slice(0, 10)}`;
    const log = jest.spyOn(logger, 'error').mockImplementation(() => undefined);
    const storage = await openPostgresStorage(pgTestConfig(database, { POSTGRES_SYNC: 'false' }).postgres);
    try {
      await expect(storage.health.ping()).rejects.toBeInstanceOf(ServiceUnavailable);
      await expect(storage.ledger.getBalances('someone')).rejects.toBeInstanceOf(ServiceUnavailable);
      const lines = errorLines(log);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(`"${database}" does not exist`);
      expect(await databaseExists(database)).toBe(false);
    } finally {
      log.mockRestore();
      await storage.close();
    }
  });
});

describe('the API on such a database', () => {
  const useDatabase = (database: string): void => {
    process.env.STORAGE = 'postgres';
    process.env.POSTGRES_HOST = PG_HOST;
    process.env.POSTGRES_PORT = String(PG_PORT);
    process.env.POSTGRES_USER = PG_USER;
    process.env.POSTGRES_DB = database;
    process.env.POSTGRES_SYNC = 'false';
  };
  afterEach(async () => {
    await resetApp();
    process.env.STORAGE = 'memory';
    for (const k of ['POSTGRES_HOST', 'POSTGRES_PORT', 'POSTGRES_USER', 'POSTGRES_DB', 'POSTGRES_SYNC']) delete process.env[k];
  });

  it.each([
    ['a schema one migration behind', async () => databaseAt(LATEST - 1)],
    ['a database that does not exist', async () => `wallet_missing_${randomUUID().replace(/-/g, '').slice(0, 10)}`],
  ])('%s: /health 503 "unavailable", every route 503 service_unavailable', async (_name, makeDatabase) => {
    const database = await makeDatabase();
    created.push(database);
    useDatabase(database);
    const log = jest.spyOn(logger, 'error').mockImplementation(() => undefined);
    try {
      const health = await call('health');
      expect(health.status).toBe(503);
      expect(health.body).toEqual({ status: 'unavailable' });
      const id = `auth0|${randomUUID()}`;
      const token = await userToken(id);
      expectError(await call('getUser', { id, token }), 503, 'service_unavailable');
      expectError(await call('createUser', { token, body: { email: 'ada@example.com', name: 'Ada' } }), 503, 'service_unavailable');
      expectError(await call('createDeposit', { id, token, body: { amount: 100, currency: 'USD' }, headers: { 'Idempotency-Key': randomUUID() } }), 503, 'service_unavailable');
      expectError(await call('listTransactions', { id, token }), 503, 'service_unavailable');
      expect(errorLines(log).filter((l) => l.includes(database))).toHaveLength(1);
    } finally {
      log.mockRestore();
    }
  });
});

describe('text PostgreSQL cannot store', () => {
  it.each([
    ['a NUL in metadata', { note: 'a\u0000b' }],
    ['a NUL in a metadata key', { 'a\u0000': 'b' }],
  ])('%s is InvalidRequest (400), and nothing is stored', async (_name, metadata) => {
    const database = 'wallet_pg_test';
    await ensureDatabase(database);
    const storage = await openPostgresStorage(pgTestConfig(database).postgres);
    try {
      const at = new Date().toISOString();
      const userId = `nul-${randomUUID()}`;
      const id = uuidv7();
      await expect(
        storage.ledger.createDeposit({ id, type: 'deposit', status: 'pending', userId, amount: 100, currency: 'USD', metadata, createdAt: at, updatedAt: at }),
      ).rejects.toBeInstanceOf(InvalidRequest);
      expect(await storage.ledger.getTransaction(id)).toBeNull();

      const ok = await storage.ledger.createDeposit({ id: uuidv7(), type: 'deposit', status: 'pending', userId, amount: 100, currency: 'USD', metadata: {}, createdAt: at, updatedAt: at });
      await expect(storage.ledger.updateMetadata(ok.id, metadata, new Date().toISOString())).rejects.toBeInstanceOf(InvalidRequest);
      expect((await storage.ledger.getTransaction(ok.id))?.metadata).toEqual({});
    } finally {
      await storage.close();
    }
  });
});

describe('from nothing', () => {
  it('POSTGRES_SYNC=true creates a missing database and migrates it', async () => {
    const database = `wallet_sync_${randomUUID().replace(/-/g, '').slice(0, 10)}`;
    created.push(database);
    const storage = await openPostgresStorage(pgTestConfig(database, { POSTGRES_SYNC: 'true' }).postgres);
    try {
      await expect(storage.health.ping()).resolves.toBeUndefined();
      await expect(storage.ledger.getBalances('someone')).resolves.toEqual([]);
    } finally {
      await storage.close();
    }
  });

  it('`npm run migrate` creates a missing database, migrates it, and says so', () => {
    const database = `wallet_cli_${randomUUID().replace(/-/g, '').slice(0, 10)}`;
    created.push(database);
    const env = { ...process.env, STORAGE: 'postgres', POSTGRES_HOST: PG_HOST, POSTGRES_PORT: String(PG_PORT), POSTGRES_USER: PG_USER, POSTGRES_DB: database };
    const run = () => spawnSync(process.execPath, ['scripts/run-ts.mjs', 'src/migrate-cli.ts'], { env, encoding: 'utf8' });
    const first = run();
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    expect(first.stdout).toContain('created the database');
    expect(first.stdout).toContain(`now at version ${LATEST}`);
    const second = run();
    expect(second.status).toBe(0);
    expect(second.stdout).not.toContain('created the database');
    expect(second.stdout).toContain(`up to date at version ${LATEST}`);
  });
});

describe('no session state', () => {
  it('timeouts live in the transaction (SET LOCAL), never on the connection', async () => {
    const database = 'wallet_pg_test';
    await ensureDatabase(database);
    const db = openPgExecutor(pgTestConfig(database, { POSTGRES_STATEMENT_TIMEOUT_MS: '1500', POSTGRES_POOL_MAX: '1' }).postgres);
    try {
      const inside = await db.transaction(async (s) => (await s.query<{ t: string; i: string }>(
        "SELECT current_setting('statement_timeout') AS t, current_setting('idle_in_transaction_session_timeout') AS i",
      ))[0]);
      expect(inside).toEqual({ t: '1500ms', i: '3s' });
      // The same (only) connection, after the transaction: the server's defaults again.
      const [after] = await db.query<{ t: string }>("SELECT current_setting('statement_timeout') AS t");
      const [server] = await db.query<{ t: string }>("SELECT reset_val AS t FROM pg_settings WHERE name = 'statement_timeout'");
      expect(after?.t).not.toBe('1500ms');
      expect(server?.t).toBe('0');
      // And a transaction that outlives its timeout is a 503, not a hang.
      await expect(db.transaction((s) => s.query('SELECT pg_sleep(3)'))).rejects.toBeInstanceOf(ServiceUnavailable);
    } finally {
      await db.close();
    }
  });
});
