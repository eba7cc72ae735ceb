// Migrations on a brand-new database: concurrent cold starts apply each version
// exactly once; the history and pending-deposit queries are served by indexes.
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { runMigrations } from '../../src/adapters/postgres/migrate';
import { MIGRATIONS } from '../../src/adapters/postgres/migrations';
import { makePgExecutor } from '../../src/adapters/postgres/pg-executor';
import { historyQuery } from '../../src/adapters/postgres/postgres-sql';
import { openPostgresStorage } from '../../src/adapters/postgres';
import { directClient, ensureDatabase, PG_HOST, PG_PORT, PG_USER, pgTestConfig } from '../support/postgres';

// A fresh database per run, dropped afterwards: only this file ever uses it.
const DATABASE = `wallet_pg_mig_${randomUUID().slice(0, 8)}`;

afterAll(async () => {
  const admin = await directClient('postgres');
  await admin.query(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
  await admin.end();
});

describe('postgres migrations', () => {
  it('apply every version exactly once under concurrent cold starts, and are recorded', async () => {
    await ensureDatabase(DATABASE);
    const pools = Array.from({ length: 6 }, () => new Pool({ host: PG_HOST, port: PG_PORT, user: PG_USER, database: DATABASE, max: 1 }));
    try {
      const results = await Promise.all(pools.map((p) => runMigrations(makePgExecutor(p))));
      const applied = results.flatMap((r) => r.applied);
      expect(applied.sort()).toEqual(MIGRATIONS.map((m) => m.version).sort());
      for (const r of results) expect(r.current).toBe(MIGRATIONS.length);
      const again = await runMigrations(makePgExecutor(pools[0] as Pool));
      expect(again.applied).toEqual([]);
      const { rows } = await (pools[0] as Pool).query('SELECT version, name FROM schema_migrations ORDER BY version');
      expect(rows).toEqual(MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
  });

  it('serves history pages and pending deposits from indexes, not table scans', async () => {
    const storage = await openPostgresStorage(pgTestConfig(DATABASE).postgres);
    const client = await directClient(DATABASE);
    try {
      // Enough rows that a plan choice is meaningful, then ask the planner.
      await client.query(`
        INSERT INTO transactions (id, type, status, user_id, to_user_id, amount, currency, created_at, updated_at)
        SELECT gen_random_uuid(), 'transfer', 'completed', 'u' || (g % 500), 'v' || (g % 500), 1, 'USD',
               now() - g * interval '1 second', now()
        FROM generate_series(1, 20000) g`);
      await client.query('ANALYZE transactions');
      const plan = async (sql: string, params: unknown[]): Promise<string> => {
        const { rows } = await client.query(`EXPLAIN ${sql}`, params);
        return rows.map((r: { 'QUERY PLAN': string }) => r['QUERY PLAN']).join('\n');
      };
      const page = historyQuery({ userId: 'u7', limit: 20, before: { createdAt: new Date().toISOString(), id: randomUUID() }, type: 'transfer' });
      const history = await plan(page.sql, page.params);
      expect(history).toContain('transactions_owner_history');
      expect(history).toContain('transactions_recipient_history');
      expect(history).not.toContain('Seq Scan');
      const pending = await plan(
        `SELECT * FROM transactions WHERE type = 'deposit' AND status = 'pending' AND created_at < $1::timestamptz ORDER BY created_at, id LIMIT 100`,
        [new Date().toISOString()],
      );
      expect(pending).toContain('transactions_pending_deposits');
      // And the adapter's own query answers from the same data.
      expect(await storage.ledger.listTransactions({ userId: 'u7', limit: 5 })).toHaveLength(5);
    } finally {
      await client.end();
      await storage.close();
    }
  });
});
