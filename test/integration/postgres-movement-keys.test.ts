// A fast-path movement keeps its key on its own row; a claim of the same key keeps
// it in idempotency_keys. Both take the key's advisory lock (see
// 0005-movement-keys.ts), so they cannot both take a new key. Forced here in the one
// interleaving where only that lock decides: the movement's last statement has run
// and not committed when the claim arrives.
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { runMigrations } from '../../src/adapters/postgres/migrate';
import { makePgExecutor, poolConfig } from '../../src/adapters/postgres/pg-executor';
import { makePostgresLedger } from '../../src/adapters/postgres/postgres-ledger';
import { WITHOUT_EVENTS } from '../../src/adapters/postgres/postgres-sql';
import type { Row, SqlExecutor } from '../../src/adapters/postgres/sql-executor';
import { uuidv7 } from '../../src/adapters/system/system-clock';
import { IdempotencyKeyInUse } from '../../src/core/errors';
import type { IdempotencyClaim, Ledger } from '../../src/core/ports';
import type { Transaction } from '../../src/core/transaction';
import { directClient, dropDatabase, ensureDatabase, pgTestConfig } from '../support/postgres';

const DATABASE = `wallet_pg_keys_${randomUUID().slice(0, 8)}`;
const pools: Pool[] = [];
let ledger: Ledger;
let claimer: Ledger;
/** Called right after the movement's last statement, before its COMMIT. */
let afterKeyedInsert: (() => Promise<void>) | undefined;

/** `db`, pausing for afterKeyedInsert once INSERT_KEYED_MOVEMENT has run. */
const pausing = (db: SqlExecutor): SqlExecutor => ({
  ...db,
  transaction: (fn, options) => db.transaction((s, probed) => fn({
    ...s,
    query: async <R extends Row>(sql: string, params?: readonly unknown[]) => {
      const rows = await s.query<R>(sql, params);
      if (sql === WITHOUT_EVENTS.INSERT_KEYED_MOVEMENT) await afterKeyedInsert?.();
      return rows;
    },
  }, probed), options),
});

beforeAll(async () => {
  await ensureDatabase(DATABASE);
  const options = pgTestConfig(DATABASE).postgres;
  const open = (): SqlExecutor => {
    const pool = new Pool(poolConfig(options));
    pools.push(pool);
    return makePgExecutor(pool, options.statementTimeoutMs);
  };
  const db = open();
  await runMigrations(db);
  ledger = makePostgresLedger(pausing(db));
  claimer = makePostgresLedger(open());
});
afterAll(async () => {
  await Promise.all(pools.map((p) => p.end()));
  await dropDatabase(DATABASE);
});

const now = (): string => new Date().toISOString();
const times = () => ({ now: now(), leaseUntil: new Date(Date.now() + 30_000).toISOString(), expiresAt: new Date(Date.now() + 86_400_000).toISOString() });
const withdrawal = (userId: string): Transaction => {
  const at = now();
  return { id: uuidv7(), type: 'withdrawal', status: 'completed', userId, amount: 1, currency: 'USD', metadata: {}, refundedAmount: 0, createdAt: at, updatedAt: at };
};

/** Resolves once a claim_idempotency_key call waits for a lock (or after `ms`). */
const claimWaits = async (ms: number): Promise<boolean> => {
  const probe = await directClient(DATABASE);
  try {
    for (const until = Date.now() + ms; Date.now() < until;) {
      const { rows } = await probe.query(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock' AND query LIKE '%claim_idempotency_key%'`,
        [DATABASE],
      );
      if (rows[0].n > 0) return true;
      await new Promise((r) => setTimeout(r, 10));
    }
    return false;
  } finally {
    await probe.end();
  }
};

describe('postgres movement keys', () => {
  it('a claim that arrives while a movement with the key commits waits for it, then finds the key taken', async () => {
    const u = `keys-${randomUUID()}`;
    const client = await directClient(DATABASE);
    await client.query(`INSERT INTO users (id, email, name, created_at) VALUES ($1, 'k@x.io', 'K', now())`, [u]);
    await client.query(`INSERT INTO balances (user_id, currency, available) VALUES ($1, 'USD', 100)`, [u]);
    await client.end();

    const scope = { callerId: u, key: `k-${randomUUID()}`, fingerprint: 'withdrawal 1', token: randomUUID() };
    let claim: Promise<IdempotencyClaim> | undefined;
    let waited = false;
    afterKeyedInsert = async () => {
      // Another request (another operation) claims the same key now.
      claim = claimer.claimIdempotency({ ...scope, fingerprint: 'a deposit', token: randomUUID() }, times());
      waited = await Promise.race([claimWaits(2_000), claim.then(() => false)]);
    };
    try {
      const moved = await ledger.withdraw(withdrawal(u), scope, times());
      expect(moved.amount).toBe(1);
    } finally {
      afterKeyedInsert = undefined;
    }
    expect(waited).toBe(true);
    expect(await claim).toEqual({ kind: 'mismatch' });
    await expect(ledger.withdraw(withdrawal(u), { ...scope, token: randomUUID() }, times())).rejects.toBeInstanceOf(IdempotencyKeyInUse);
    expect(await ledger.getBalances(u)).toEqual([{ currency: 'USD', available: 99, held: 0 }]);
  });
});
