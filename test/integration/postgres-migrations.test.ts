// Migrations on a brand-new database: concurrent cold starts apply each version
// exactly once; the history, pending-deposit, pending-refund, hold and outbox queries
// are served by indexes; rows written before holds and refunds existed read and
// refund; rows written before the outbox count as version 1 and go on from there;
// keys recorded before movements carried them still replay.
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { runMigrations } from '../../src/adapters/postgres/migrate';
import { MIGRATIONS } from '../../src/adapters/postgres/migrations';
import { makePgExecutor } from '../../src/adapters/postgres/pg-executor';
import { keyLock } from '../../src/adapters/postgres/postgres-ledger';
import { BACKLOG, CLAIM_EVENTS } from '../../src/adapters/postgres/postgres-events-sql';
import { DEBIT_PROFILE, historyQuery, holdsQuery, pendingQuery, RELEASE_DUE_HOLDS } from '../../src/adapters/postgres/postgres-sql';
import { openPostgresStorage } from '../../src/adapters/postgres';
import { uuidv7 } from '../../src/adapters/system/system-clock';
import type { Transaction } from '../../src/core/transaction';
import { directClient, dropDatabase, ensureDatabase, PG_HOST, PG_PORT, PG_USER, pgTestConfig } from '../support/postgres';

// Fresh databases per run, dropped afterwards: only this file ever uses them.
const DATABASE = `wallet_pg_mig_${randomUUID().slice(0, 8)}`;
const UPGRADED = `wallet_pg_up_${randomUUID().slice(0, 8)}`;
const UPGRADED_OUTBOX = `wallet_pg_up4_${randomUUID().slice(0, 8)}`;
const UPGRADED_KEYS = `wallet_pg_up5_${randomUUID().slice(0, 8)}`;

afterAll(async () => {
  await dropDatabase(DATABASE);
  await dropDatabase(UPGRADED);
  await dropDatabase(UPGRADED_OUTBOX);
  await dropDatabase(UPGRADED_KEYS);
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
      expect(await plan(pendingQuery('refund'), [new Date().toISOString(), 100])).toContain('transactions_pending_refunds');
      // And the adapter's own query answers from the same data.
      expect(await storage.ledger.listTransactions({ userId: 'u7', limit: 5 })).toHaveLength(5);
    } finally {
      await client.end();
      await storage.close();
    }
  });

  it('serves hold listings, the release inside a debit and the scheduled release from the hold indexes', async () => {
    const client = await directClient(DATABASE);
    try {
      await client.query(`
        INSERT INTO holds (id, user_id, amount, currency, status, expires_at, created_at, updated_at)
        SELECT gen_random_uuid(), 'u' || (g % 500), 1, 'USD', CASE WHEN g % 10 = 0 THEN 'held' ELSE 'voided' END,
               now() + (g % 100 - 50) * interval '1 minute', now() - g * interval '1 second', now()
        FROM generate_series(1, 20000) g`);
      await client.query('ANALYZE holds');
      const plan = async (sql: string, params: unknown[]): Promise<string> => {
        const { rows } = await client.query(`EXPLAIN ${sql}`, params);
        return rows.map((r: { 'QUERY PLAN': string }) => r['QUERY PLAN']).join('\n');
      };
      const at = new Date().toISOString();
      for (const status of [undefined, 'held', 'expired'] as const) {
        const page = holdsQuery({ userId: 'u7', limit: 20, now: at, before: { createdAt: at, id: randomUUID() }, ...(status && { status }) });
        const listing = await plan(page.sql, page.params);
        // The payer's live holds may come from holds_payer_live, which is as narrow.
        expect(listing).toMatch(/holds_payer_(history|live)/);
        expect(listing).not.toContain('Seq Scan');
      }
      const debit = await plan(DEBIT_PROFILE, ['u7', 'USD', '1', at]);
      expect(debit).toContain('holds_payer_live');
      expect(debit).not.toContain('Seq Scan on holds');
      expect(await plan(RELEASE_DUE_HOLDS, [at, 100])).toContain('holds_due');
    } finally {
      await client.end();
    }
  });

  it('upgrades a database with data: older transactions read refundedAmount 0, a transfer takes a refund, balances hold nothing', async () => {
    await ensureDatabase(UPGRADED);
    const pool = new Pool({ host: PG_HOST, port: PG_PORT, user: PG_USER, database: UPGRADED, max: 1 });
    const at = new Date().toISOString();
    const transfer = uuidv7();
    try {
      await runMigrations(makePgExecutor(pool), MIGRATIONS.filter((m) => m.version < 3));
      // Written as the code before holds and refunds did.
      await pool.query(`INSERT INTO users (id, email, name, created_at) VALUES ('old-a', 'a@x.io', 'A', $1), ('old-b', 'b@x.io', 'B', $1)`, [at]);
      await pool.query(`INSERT INTO balances (user_id, currency, available) VALUES ('old-a', 'USD', 900), ('old-b', 'USD', 100)`);
      await pool.query(
        `INSERT INTO transactions (id, type, status, user_id, to_user_id, amount, currency, created_at, updated_at)
         VALUES ($1, 'transfer', 'completed', 'old-a', 'old-b', 100, 'USD', $2, $2)`,
        [transfer, at],
      );
      expect((await runMigrations(makePgExecutor(pool))).applied).toEqual(MIGRATIONS.filter((m) => m.version >= 3).map((m) => m.version));
    } finally {
      await pool.end();
    }
    const storage = await openPostgresStorage(pgTestConfig(UPGRADED).postgres);
    try {
      const original = await storage.ledger.getTransaction(transfer);
      expect(original).toMatchObject({ type: 'transfer', refundedAmount: 0 });
      expect(original).not.toHaveProperty('holdId');
      expect(await storage.ledger.getBalances('old-a')).toEqual([{ currency: 'USD', available: 900, held: 0 }]);
      const refund = await storage.ledger.refund({
        refund: { id: uuidv7(), type: 'refund', status: 'completed', userId: 'old-b', toUserId: 'old-a', amount: 60, currency: 'USD', metadata: {}, refundOf: transfer, createdAt: at, updatedAt: at },
        now: at,
      });
      expect(await storage.ledger.getTransaction(refund.id)).toEqual(refund);
      expect((await storage.ledger.getTransaction(transfer))?.refundedAmount).toBe(60);
      expect(await storage.ledger.getBalances('old-a')).toEqual([{ currency: 'USD', available: 960, held: 0 }]);
    } finally {
      await storage.close();
    }
  });
  it('claims outbox entries on the primary key and finds the oldest on outbox_occurred_at, not by table scans', async () => {
    const client = await directClient(DATABASE);
    try {
      await client.query(`
        INSERT INTO outbox (id, type, occurred_at, version, resource, lease_until, claim_token)
        SELECT gen_random_uuid(), 'transaction.completed', now() - g * interval '1 second', 1, '{}'::jsonb,
               CASE WHEN g % 2 = 0 THEN now() + interval '1 minute' END, CASE WHEN g % 2 = 0 THEN 'relay' END
        FROM generate_series(1, 20000) g`);
      await client.query('ANALYZE outbox');
      const plan = async (sql: string, params: unknown[]): Promise<string> => {
        const { rows } = await client.query(`EXPLAIN ${sql}`, params);
        return rows.map((r: { 'QUERY PLAN': string }) => r['QUERY PLAN']).join('\n');
      };
      const at = new Date().toISOString();
      const claim = await plan(CLAIM_EVENTS, [100, at, at, 'token']);
      expect(claim).toContain('outbox_pkey');
      expect(claim).not.toContain('Seq Scan');
      expect(await plan(BACKLOG, [])).toContain('outbox_occurred_at');
    } finally {
      await client.end();
    }
  });

  it('upgrades to the outbox: rows written before count as version 1, and their next change with events on is version 2', async () => {
    await ensureDatabase(UPGRADED_OUTBOX);
    const pool = new Pool({ host: PG_HOST, port: PG_PORT, user: PG_USER, database: UPGRADED_OUTBOX, max: 1 });
    const at = new Date().toISOString();
    const [deposit, hold] = [uuidv7(), uuidv7()];
    try {
      await runMigrations(makePgExecutor(pool), MIGRATIONS.filter((m) => m.version < 4));
      // Written as the code before the outbox did: a pending deposit and a live hold.
      await pool.query(`INSERT INTO users (id, email, name, created_at) VALUES ('old-c', 'c@x.io', 'C', $1)`, [at]);
      await pool.query(`INSERT INTO balances (user_id, currency, available, held) VALUES ('old-c', 'USD', 0, 50)`);
      await pool.query(
        `INSERT INTO transactions (id, type, status, user_id, amount, currency, created_at, updated_at)
         VALUES ($1, 'deposit', 'pending', 'old-c', 100, 'USD', $2, $2)`,
        [deposit, at],
      );
      await pool.query(
        `INSERT INTO holds (id, user_id, amount, currency, status, expires_at, created_at, updated_at)
         VALUES ($1, 'old-c', 50, 'USD', 'held', $2, $3, $3)`,
        [hold, new Date(Date.now() + 3_600_000).toISOString(), at],
      );
      expect((await runMigrations(makePgExecutor(pool))).applied).toEqual(MIGRATIONS.filter((m) => m.version >= 4).map((m) => m.version));
      const { rows } = await pool.query('SELECT (SELECT version FROM transactions WHERE id = $1) AS tx, (SELECT version FROM holds WHERE id = $2) AS hold', [deposit, hold]);
      expect(rows).toEqual([{ tx: 1, hold: 1 }]);
    } finally {
      await pool.end();
    }
    const storage = await openPostgresStorage(pgTestConfig(UPGRADED_OUTBOX, { EVENT_BUS_NAME: 'wallet-test' }).postgres);
    try {
      const settled = await storage.ledger.settle({ id: deposit, status: 'completed', now: new Date().toISOString() });
      const voided = await storage.ledger.voidHold({ holdId: hold, now: new Date().toISOString() });
      const later = new Date(Date.now() + 60_000).toISOString();
      const events = await storage.outbox?.claimEvents({ limit: 10, now: later, leaseUntil: later, token: 'relay' });
      expect(events?.map((e) => [e.type, e.version, e.resource])).toEqual([
        ['transaction.completed', 2, { kind: 'transaction', transaction: settled }],
        ['hold.voided', 2, { kind: 'hold', hold: voided }],
      ]);
    } finally {
      await storage.close();
    }
  });

  it('finds the key a movement carries on transactions_idempotency, not by a table scan', async () => {
    const client = await directClient(DATABASE);
    try {
      await client.query(`
        INSERT INTO transactions (id, type, status, user_id, to_user_id, amount, currency, created_at, updated_at, idempotency_key, idempotency_fingerprint)
        SELECT gen_random_uuid(), 'transfer', 'completed', 'k' || (g % 500), 'v' || (g % 500), 1, 'USD', now(), now(), 'key-' || g, 'fp'
        FROM generate_series(1, 5000) g`);
      await client.query('ANALYZE transactions');
      const { rows } = await client.query('EXPLAIN SELECT 1 FROM transactions WHERE user_id = $1 AND idempotency_key = $2', ['k7', 'key-7']);
      const plan = rows.map((r: { 'QUERY PLAN': string }) => r['QUERY PLAN']).join('\n');
      expect(plan).toContain('transactions_idempotency');
      expect(plan).not.toContain('Seq Scan');
    } finally {
      await client.end();
    }
  });

  it('upgrades to movement keys: a keyed transfer recorded before still replays and moves nothing again; claims by older code stay safe', async () => {
    await ensureDatabase(UPGRADED_KEYS);
    const pool = new Pool({ host: PG_HOST, port: PG_PORT, user: PG_USER, database: UPGRADED_KEYS, max: 1 });
    const at = new Date().toISOString();
    const transfer = uuidv7();
    const first: Transaction = { id: transfer, type: 'transfer', status: 'completed', userId: 'old-d', toUserId: 'old-e', amount: 100, currency: 'USD',
      metadata: { order: '7' }, refundedAmount: 0, createdAt: at, updatedAt: at };
    const scope = { callerId: 'old-d', key: 'k-before', fingerprint: 'fp-before', token: randomUUID() };
    try {
      await runMigrations(makePgExecutor(pool), MIGRATIONS.filter((m) => m.version < 5));
      // Written as the fast path before migration 5 did: the transfer, and its key's record done with its outcome.
      await pool.query(`INSERT INTO users (id, email, name, created_at) VALUES ('old-d', 'd@x.io', 'D', $1), ('old-e', 'e@x.io', 'E', $1)`, [at]);
      await pool.query(`INSERT INTO balances (user_id, currency, available) VALUES ('old-d', 'USD', 900), ('old-e', 'USD', 100)`);
      await pool.query(
        `INSERT INTO transactions (id, type, status, user_id, to_user_id, amount, currency, metadata, created_at, updated_at)
         VALUES ($1, 'transfer', 'completed', 'old-d', 'old-e', 100, 'USD', '{"order":"7"}', $2, $2)`,
        [transfer, at],
      );
      await pool.query(
        `INSERT INTO idempotency_keys (caller_id, key, fingerprint, state, lease_until, expires_at, claim_token, transaction_id, outcome)
         VALUES ('old-d', 'k-before', 'fp-before', 'done', $1, $2, $3, $4, $5)`,
        [at, new Date(Date.now() + 86_400_000).toISOString(), scope.token, transfer, JSON.stringify({ kind: 'transaction', transaction: first })],
      );
      expect((await runMigrations(makePgExecutor(pool))).applied).toEqual([5]);
    } finally {
      await pool.end();
    }
    const storage = await openPostgresStorage(pgTestConfig(UPGRADED_KEYS).postgres);
    try {
      const now = new Date().toISOString();
      const times = { now, leaseUntil: new Date(Date.now() + 30_000).toISOString(), expiresAt: new Date(Date.now() + 86_400_000).toISOString() };
      expect(await storage.ledger.claimIdempotency({ ...scope, token: randomUUID() }, times))
        .toEqual({ kind: 'replay', outcome: { kind: 'transaction', transaction: first } });
      const again = { ...first, id: uuidv7(), createdAt: now, updatedAt: now };
      await expect(storage.ledger.transfer(again, { ...scope, token: randomUUID() }, times)).rejects.toMatchObject({ code: 'idempotency_key_in_use' });
      expect(await storage.ledger.getBalances('old-d')).toEqual([{ currency: 'USD', available: 900, held: 0 }]);

      const withdrawal = (): Transaction => ({
        id: uuidv7(), type: 'withdrawal', status: 'completed', userId: 'old-d', amount: 1, currency: 'USD', metadata: {}, refundedAmount: 0, createdAt: now, updatedAt: now,
      });
      // Code from before 0005, still running during a deploy, claims without lock_hash:
      // a new key gets the lock_hash this code computes; a key a movement carries is refused.
      const moved = { callerId: 'old-d', key: `k-${randomUUID()}`, fingerprint: 'fp-moved', token: randomUUID() };
      await storage.ledger.withdraw(withdrawal(), moved, times);
      const client = await directClient(UPGRADED_KEYS);
      try {
        const olderClaim = (key: string) => client.query(
          `INSERT INTO idempotency_keys (caller_id, key, fingerprint, state, lease_until, expires_at, claim_token)
           VALUES ('old-d', $1, 'fp-old-code', 'in_flight', $2, $3, 'old-token') ON CONFLICT (caller_id, key) DO NOTHING RETURNING lock_hash`,
          [key, times.leaseUntil, times.expiresAt],
        );
        await expect(olderClaim(moved.key)).rejects.toMatchObject({ code: '40001' });
        const fresh = `k-${randomUUID()}`;
        expect((await olderClaim(fresh)).rows).toEqual([{ lock_hash: keyLock({ callerId: 'old-d', key: fresh }) }]);
        const newer = { callerId: 'old-d', key: fresh, fingerprint: 'fp-new', token: randomUUID() };
        await expect(storage.ledger.withdraw(withdrawal(), newer, times)).rejects.toMatchObject({ code: 'idempotency_key_in_use' });
      } finally {
        await client.end();
      }
      expect(await storage.ledger.getBalances('old-d')).toEqual([{ currency: 'USD', available: 899, held: 0 }]);
    } finally {
      await storage.close();
    }
  });
});
