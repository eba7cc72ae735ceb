// STORAGE=postgres (a pg Pool) and STORAGE=pglite (the embedded default): the same
// ledger, user store and health check over two SqlExecutors. Drivers are imported
// lazily so a process only loads the one it uses.
import { join } from 'node:path';
import type { Storage } from '../storage';
import { logger } from '../../observability/logger';
import { runMigrations } from './migrate';
import type { PostgresOptions } from './pg-executor';
import { MIGRATIONS } from './migrations';
import { makePostgresHealthCheck } from './postgres-health';
import { makePostgresLedger } from './postgres-ledger';
import { makePostgresOutbox } from './postgres-outbox';
import { makePostgresUserStore } from './postgres-user-store';
import { requireCurrentSchema } from './schema-check';
import type { SqlExecutor } from './sql-executor';

/** With `events` on, the ledger writes every change's event and the outbox serves relays. */
const storageOver = (kind: string, db: SqlExecutor, events: boolean): Storage => ({
  kind,
  ledger: makePostgresLedger(db, { events }),
  users: makePostgresUserStore(db),
  health: makePostgresHealthCheck(db),
  ...(events && { outbox: makePostgresOutbox(db) }),
  close: () => db.close(),
});

/** Migrates `db` when asked; a failed migration closes it, so no half-open storage is returned. */
const open = async (kind: string, db: SqlExecutor, migrate: boolean, events = false): Promise<Storage> => {
  if (migrate) {
    try {
      await runMigrations(db);
    } catch (err) {
      await db.close().catch(() => undefined);
      throw err;
    }
  }
  return storageOver(kind, db, events);
};

export type { PostgresOptions } from './pg-executor';

/** What STORAGE=pglite needs. */
export interface PgliteOptions {
  /** The data lives under `${dataDir}/pglite`. */
  dataDir: string;
  /** Write an event for every change into the outbox (EVENT_BUS_NAME is set). */
  events?: boolean;
}

/**
 * A pg Pool for this process. Connects lazily; with POSTGRES_SYNC=true (local use)
 * creates the database when missing and migrates first. Otherwise the first
 * statement checks that the schema is current (503 and one log line until it is).
 */
export const openPostgresStorage = async (options: PostgresOptions): Promise<Storage> => {
  const { openPgExecutor } = await import('./pg-executor');
  if (options.runMigrations) {
    const { ensureDatabaseExists } = await import('./create-database');
    await ensureDatabaseExists(options);
    return open('postgres', openPgExecutor(options), true, options.events);
  }
  const db = requireCurrentSchema(openPgExecutor(options), {
    database: options.database,
    expected: Math.max(...MIGRATIONS.map((m) => m.version)),
    log: (message, details) => logger.error(message, details),
  });
  return open('postgres', db, false, options.events);
};

/** The embedded default: the same SQL on PGlite, data under `${options.dataDir}/pglite`, always migrated. */
export const openPgliteStorage = async (options: PgliteOptions): Promise<Storage> => {
  const { openPgliteExecutor } = await import('./pglite-executor');
  return open('pglite', openPgliteExecutor(join(options.dataDir, 'pglite')), true, options.events);
};
