// A deployed PostgreSQL stage does not migrate at cold start (`npm run migrate` is
// a deploy step). If that step was skipped, or the database was never created, the
// first statement would fail with a missing table or database: a 500 on every
// route. Instead every call, /health included, is a ServiceUnavailable (503) until
// the schema is current, and the process logs once what to run.
import { ServiceUnavailable } from '../../core/errors';
import { isMissingDatabase, sqlState } from './pg-errors';
import type { SqlExecutor } from './sql-executor';

export type SchemaLog = (message: string, details: Record<string, unknown>) => void;

export interface SchemaCheck {
  database: string;
  /** The newest migration this code ships. */
  expected: number;
  log: SchemaLog;
}

/** `db`, answering ServiceUnavailable until its schema is at `expected`; checked once per process when it is. */
export const requireCurrentSchema = (db: SqlExecutor, { database, expected, log }: SchemaCheck): SqlExecutor => {
  let ready = false;
  let pending: Promise<void> | undefined;
  const logged = new Set<string>();
  const logOnce = (kind: string, message: string, details: Record<string, unknown>): void => {
    if (logged.has(kind)) return;
    logged.add(kind);
    log(message, details);
  };

  const check = async (): Promise<void> => {
    let current: number;
    try {
      const rows = await db.query<{ version: number | null }>('SELECT max(version) AS version FROM schema_migrations', [], { idempotent: true });
      current = Number(rows[0]?.version ?? 0);
    } catch (err) {
      const cause = err instanceof ServiceUnavailable ? (err as { cause?: unknown }).cause : err;
      if (isMissingDatabase(cause)) {
        logOnce('missing', `PostgreSQL database "${database}" does not exist: run npm run migrate (it creates the database when the server allows) or create it`, { database });
        throw err;
      }
      // 42P01 undefined_table: never migrated.
      if (sqlState(err) !== '42P01') throw err;
      current = 0;
    }
    if (current < expected) {
      logOnce('behind', `PostgreSQL database "${database}" schema is at version ${current}, this code needs version ${expected}: run npm run migrate`, { database, schemaVersion: current, expectedVersion: expected });
      throw new ServiceUnavailable();
    }
    ready = true;
  };

  // Concurrent first calls share one check; a failed check is tried again by the next
  // call, so the process recovers by itself once the migration has run.
  const ensure = (): Promise<void> | undefined => {
    if (ready) return undefined;
    pending ??= check().finally(() => (pending = undefined));
    return pending;
  };

  return {
    async query(sql, params, options) {
      await ensure();
      return db.query(sql, params, options);
    },
    async transaction(fn, options) {
      await ensure();
      return db.transaction(fn, options);
    },
    close: () => db.close(),
  };
};
