// STORAGE=postgres (a pg Pool) and STORAGE=pglite (the embedded default): the same
// ledger, user store and health check over two SqlExecutors. Drivers are imported
// lazily so a process only loads the one it uses.
import { join } from 'node:path';
import type { Config } from '../../config';
import type { Storage } from '../storage';
import { runMigrations } from './migrate';
import { makePostgresHealthCheck } from './postgres-health';
import { makePostgresLedger } from './postgres-ledger';
import { makePostgresUserStore } from './postgres-user-store';
import type { SqlExecutor } from './sql-executor';

const storageOver = (kind: string, db: SqlExecutor): Storage => ({
  kind,
  ledger: makePostgresLedger(db),
  users: makePostgresUserStore(db),
  health: makePostgresHealthCheck(db),
  close: () => db.close(),
});

/** A pg Pool for this process. Connects lazily; migrates first only with POSTGRES_SYNC=true (local use). */
export const openPostgresStorage = async (config: Config): Promise<Storage> => {
  const { openPgExecutor } = await import('./pg-executor');
  const db = openPgExecutor(config);
  if (config.postgres.runMigrations) {
    try {
      await runMigrations(db);
    } catch (err) {
      await db.close().catch(() => undefined);
      throw err;
    }
  }
  return storageOver('postgres', db);
};

/** The embedded default: the same SQL on PGlite, data under `${config.dataDir}/pglite`, always migrated. */
export const openPgliteStorage = async (config: Config): Promise<Storage> => {
  const { openPgliteExecutor } = await import('./pglite-executor');
  const db = openPgliteExecutor(join(config.dataDir, 'pglite'));
  try {
    await runMigrations(db);
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
  return storageOver('pglite', db);
};
