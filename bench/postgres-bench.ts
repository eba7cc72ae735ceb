// Transfers per second through Ledger.transfer (the postgres adapter) against the
// same SQL statements sent raw with pg, at 1, 8 and 32 concurrent callers; then a
// hot account (every transfer out of one balance row). Prints a markdown section.
// Usage: node scripts/run-ts.mjs bench/postgres-bench.ts   (POSTGRES_* as for the service;
// database BENCH_POSTGRES_DB, default wallet_pg_bench, created if missing.)
import { randomUUID } from 'node:crypto';
import { Client, Pool } from 'pg';
import { openPostgresStorage } from '../src/adapters/postgres';
import { poolConfig } from '../src/adapters/postgres/pg-executor';
import { transactionParams } from '../src/adapters/postgres/postgres-rows';
import { CREDIT_PROFILE, DEBIT_PROFILE, INSERT_TRANSACTION } from '../src/adapters/postgres/postgres-sql';
import { uuidv7 } from '../src/adapters/system/system-clock';
import { parseConfig } from '../src/config';
import { InsufficientFunds } from '../src/core/errors';
import type { Ledger, UserStore } from '../src/core/ports';
import type { Transaction } from '../src/core/transaction';

const CONCURRENCY = [1, 8, 32];
const REPETITIONS = 3;
const RUN_MS = 1_200;
const ACCOUNTS = 200;
const POOL_MAX = 16;

const config = parseConfig({
  ...process.env,
  AUTH_JWT_SECRET: 'bench-secret-not-used-here',
  POSTGRES_DB: process.env.BENCH_POSTGRES_DB ?? 'wallet_pg_bench',
  POSTGRES_SYNC: 'true',
  POSTGRES_POOL_MAX: String(POOL_MAX),
});

const transfer = (from: string, to: string, amount = 1): Transaction => {
  const at = new Date().toISOString();
  return { id: uuidv7(), type: 'transfer', status: 'completed', userId: from, toUserId: to, amount, currency: 'USD', metadata: {}, createdAt: at, updatedAt: at };
};

/** The adapter's statements, sent by hand: the floor the adapter is measured against. */
const rawTransfer = async (pool: Pool, tx: Transaction): Promise<void> => {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    const to = tx.toUserId as string;
    const debit = async (): Promise<void> => {
      if ((await c.query(DEBIT_PROFILE, [tx.userId, tx.currency, String(tx.amount), tx.createdAt])).rowCount === 0) throw new InsufficientFunds();
    };
    const credit = (): Promise<unknown> => c.query(CREDIT_PROFILE, [to, tx.currency, String(tx.amount)]);
    if (tx.userId < to) {
      await debit();
      await credit();
    } else {
      await credit();
      await debit();
    }
    await c.query(INSERT_TRANSACTION, transactionParams(tx));
    await c.query('COMMIT');
  } catch (err) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    c.release();
  }
};

/** Runs `op` from `workers` concurrent callers for RUN_MS; returns completed operations per second. */
const measure = async (workers: number, op: () => Promise<unknown>): Promise<{ perSecond: number; refused: number }> => {
  const end = Date.now() + RUN_MS;
  let ok = 0;
  let refused = 0;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (Date.now() < end) {
        try {
          await op();
          ok++;
        } catch (err) {
          if (!(err instanceof InsufficientFunds)) throw err;
          refused++;
        }
      }
    }),
  );
  return { perSecond: (ok * 1000) / (Date.now() - started), refused };
};

const stats = (xs: number[]): { median: number; min: number; max: number } => {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)] ?? 0, min: s[0] ?? 0, max: s[s.length - 1] ?? 0 };
};
const fmt = (x: { median: number; min: number; max: number }): string =>
  `${Math.round(x.median)} (${Math.round(x.min)}–${Math.round(x.max)})`;

const ensureDatabase = async (): Promise<void> => {
  const admin = new Client({ ...poolConfig(config.postgres), database: 'postgres' });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [config.postgres.database]);
    if (!rowCount) await admin.query(`CREATE DATABASE "${config.postgres.database.replace(/"/g, '""')}"`);
  } finally {
    await admin.end();
  }
};

/** A profile (withdrawals and transfers check it inside the movement), then money. */
const fund = async ({ ledger, users }: { ledger: Ledger; users: UserStore }, userId: string, amount: number): Promise<void> => {
  const at = new Date().toISOString();
  await users.create({ id: userId, email: `${userId}@example.com`, name: 'Bench', createdAt: at });
  const d = await ledger.createDeposit({ id: uuidv7(), type: 'deposit', status: 'pending', userId, amount, currency: 'USD', metadata: {}, createdAt: at, updatedAt: at });
  await ledger.settle({ id: d.id, status: 'completed', now: new Date().toISOString() });
};

const main = async (): Promise<void> => {
  await ensureDatabase();
  const storage = await openPostgresStorage(config.postgres);
  const raw = new Pool(poolConfig(config.postgres));
  try {
    const run = randomUUID().slice(0, 8);
    const accounts = Array.from({ length: ACCOUNTS }, (_, i) => `bench-${run}-${i}`);
    await Promise.all(accounts.map((a) => fund(storage, a, 1_000_000_000)));
    const pair = (): [string, string] => {
      const i = Math.floor(Math.random() * ACCOUNTS);
      const j = (i + 1 + Math.floor(Math.random() * (ACCOUNTS - 1))) % ACCOUNTS;
      return [accounts[i] as string, accounts[j] as string];
    };

    // Warm both paths (connections, plans) before measuring.
    await measure(8, () => storage.ledger.transfer(transfer(...pair())));
    await measure(8, () => rawTransfer(raw, transfer(...pair())));

    const rows: string[] = [];
    for (const c of CONCURRENCY) {
      const adapter: number[] = [];
      const direct: number[] = [];
      for (let r = 0; r < REPETITIONS; r++) {
        // Interleaved, so drift on the shared server hits both alike.
        adapter.push((await measure(c, () => storage.ledger.transfer(transfer(...pair())))).perSecond);
        direct.push((await measure(c, () => rawTransfer(raw, transfer(...pair())))).perSecond);
      }
      const a = stats(adapter);
      const d = stats(direct);
      rows.push(`| ${c} | ${fmt(a)} | ${fmt(d)} | ${(a.median / d.median).toFixed(2)} |`);
    }

    // Hot account: every caller debits the same row, so transfers queue on its lock.
    const hot = `bench-${run}-hot`;
    await fund(storage, hot, 1_000_000_000);
    const hotRates: number[] = [];
    for (let r = 0; r < REPETITIONS; r++) {
      hotRates.push((await measure(32, () => storage.ledger.transfer(transfer(hot, accounts[Math.floor(Math.random() * ACCOUNTS)] as string)))).perSecond);
    }
    // Overdraft check: 1000 racing transfers of 1 out of a balance of exactly 500.
    const small = `bench-${run}-small`;
    await fund(storage, small, 500);
    const results = await Promise.allSettled(
      Array.from({ length: 1000 }, (_, i) => storage.ledger.transfer(transfer(small, accounts[i % ACCOUNTS] as string))),
    );
    const succeeded = results.filter((x) => x.status === 'fulfilled').length;
    const unexpected = results.filter((x) => x.status === 'rejected' && !(x.reason instanceof InsufficientFunds)).length;
    const left = (await storage.ledger.getBalances(small)).find((b) => b.currency === 'USD')?.available;
    const noOverdraft = succeeded === 500 && left === 0 && unexpected === 0;

    const version = (await raw.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]?.v ?? '?';
    console.log(`## PostgreSQL adapter (STORAGE=postgres)

Transfers per second through \`Ledger.transfer\` vs the same SQL statements sent raw with \`pg\`
(BEGIN, guarded debit and credit in user_id order — each also checking its user's profile — INSERT, COMMIT), random pairs among ${ACCOUNTS} accounts.
PostgreSQL ${version} on ${config.postgres.host}:${config.postgres.port}, Node ${process.version}, pool max ${POOL_MAX} for both,
${REPETITIONS} interleaved runs of ${RUN_MS} ms per cell: median (min–max).

| concurrent callers | adapter tx/s | raw pg tx/s | adapter / raw |
|---|---|---|---|
${rows.join('\n')}

Hot account (32 callers, every transfer out of one balance row): ${fmt(stats(hotRates))} tx/s.
Overdraft check (1000 racing transfers of 1 out of a balance of 500): ${succeeded} succeeded, balance left ${left}, ${unexpected} unexpected errors — ${noOverdraft ? 'no overdraft ✔' : 'FAILED ✘'}.
`);
    if (!noOverdraft) process.exitCode = 1;
  } finally {
    await raw.end();
    await storage.close();
  }
};

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
