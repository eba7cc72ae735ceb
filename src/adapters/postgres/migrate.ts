// Applies pending migrations in one transaction under a transaction-scoped advisory
// lock, so concurrent cold starts (or CLI runs) apply each migration exactly once.
import { MIGRATIONS, type Migration } from './migrations';
import type { SqlExecutor } from './sql-executor';

/** Arbitrary, fixed: identifies "the wallet schema migration" among advisory locks. */
const MIGRATION_LOCK_KEY = 7_305_118_042;

export interface MigrationResult {
  applied: number[];
  current: number;
}

export const runMigrations = (db: SqlExecutor, migrations: readonly Migration[] = MIGRATIONS): Promise<MigrationResult> =>
  db.transaction(async (s) => {
    await s.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    await s.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version    integer PRIMARY KEY,
      name       text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const rows = await s.query<{ version: number }>('SELECT version FROM schema_migrations');
    const done = new Set(rows.map((r) => Number(r.version)));
    const applied: number[] = [];
    for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
      if (done.has(m.version)) continue;
      await s.exec(m.sql);
      await s.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      applied.push(m.version);
    }
    const all = [...done, ...applied];
    return { applied, current: all.length ? Math.max(...all) : 0 };
  });
