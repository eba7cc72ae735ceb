// Network and server faults between the pool and PostgreSQL, through a TCP proxy we
// control (the shared server itself is never touched). What a user would notice:
// 503 while the database is away, service again once it is back (same process,
// same storage object), and never a half-applied or lost movement.
import { randomUUID } from 'node:crypto';
import { Pool, type Client, type PoolClient } from 'pg';
import { openPostgresStorage } from '../../src/adapters/postgres';
import { makePgExecutor, poolConfig } from '../../src/adapters/postgres/pg-executor';
import type { Storage } from '../../src/adapters/storage';
import { uuidv7 } from '../../src/adapters/system/system-clock';
import { InsufficientFunds, ServiceUnavailable } from '../../src/core/errors';
import type { ClaimTimes, IdempotencyScope } from '../../src/core/ports';
import type { Transaction } from '../../src/core/transaction';
import { directClient, ensureDatabase, pgTestConfig } from '../support/postgres';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';
import { PG_HOST, PG_PORT } from '../support/postgres';

const DATABASE = 'wallet_pg_faults';

let proxy: TcpProxy;
/** Through the proxy: the storage under test. */
let storage: Storage;
/** Straight to the server: setup and verification. */
let direct: Storage;
let admin: Client;

beforeAll(async () => {
  await ensureDatabase(DATABASE);
  proxy = await startTcpProxy({ host: PG_HOST, port: PG_PORT });
  direct = await openPostgresStorage(pgTestConfig(DATABASE).postgres);
  storage = await openPostgresStorage(
    pgTestConfig(DATABASE, {
      POSTGRES_PORT: String(proxy.port),
      POSTGRES_SYNC: 'false',
      POSTGRES_CONNECT_TIMEOUT_MS: '1000',
      POSTGRES_STATEMENT_TIMEOUT_MS: '3000',
    }).postgres,
  );
  admin = await directClient('postgres');
});

afterAll(async () => {
  await storage?.close();
  await direct?.close();
  await admin?.end();
  await proxy?.close();
});

const now = (): string => new Date().toISOString();
const times = (): ClaimTimes => {
  const at = Date.now();
  return { now: new Date(at).toISOString(), leaseUntil: new Date(at + 60_000).toISOString(), expiresAt: new Date(at + 86_400_000).toISOString() };
};
/** As the use cases build it: a withdrawal or transfer carries refundedAmount 0, and reads back with it. */
const movement = (type: 'withdrawal' | 'transfer', userId: string, amount: number, toUserId?: string): Transaction => {
  const at = now();
  return { id: uuidv7(), type, status: 'completed', userId, ...(toUserId && { toUserId }), amount, currency: 'USD', metadata: {}, refundedAmount: 0, createdAt: at, updatedAt: at };
};

const newFundedUser = async (amount: number): Promise<string> => {
  const id = `fault-${randomUUID()}`;
  await direct.users.create({ id, email: `${id}@example.com`, name: 'Fault', createdAt: now() });
  const at = now();
  const d = await direct.ledger.createDeposit({ id: uuidv7(), type: 'deposit', status: 'pending', userId: id, amount, currency: 'USD', metadata: {}, createdAt: at, updatedAt: at });
  await direct.ledger.settle({ id: d.id, status: 'completed', now: now() });
  return id;
};
const usd = async (s: Storage, userId: string): Promise<number> =>
  (await s.ledger.getBalances(userId)).find((b) => b.currency === 'USD')?.available ?? 0;

/**
 * Every movement that is stored took full effect and nothing else did: each balance
 * equals its funding plus the stored movements touching it, none is negative, and
 * each idempotency key replays exactly the movement that was stored with it.
 */
const expectAllOrNothing = async (
  accounts: string[],
  funding: number,
  attempts: { tx: Transaction; scope?: IdempotencyScope; acknowledged: boolean }[],
): Promise<void> => {
  const expected = new Map(accounts.map((a) => [a, funding]));
  for (const { tx, scope, acknowledged } of attempts) {
    const stored = await direct.ledger.getTransaction(tx.id);
    if (acknowledged) expect(stored).toEqual(tx);
    if (stored) {
      expected.set(tx.userId, (expected.get(tx.userId) ?? 0) - tx.amount);
      if (tx.toUserId) expected.set(tx.toUserId, (expected.get(tx.toUserId) ?? 0) + tx.amount);
    }
    if (scope) {
      const claim = await direct.ledger.claimIdempotency(scope, times());
      if (stored) expect(claim).toEqual({ kind: 'replay', outcome: { kind: 'transaction', transaction: stored } });
      else expect(claim.kind).not.toBe('replay');
    }
  }
  for (const a of accounts) {
    const actual = await usd(direct, a);
    expect(actual).toBeGreaterThanOrEqual(0);
    expect(actual).toBe(expected.get(a));
  }
};

describe('postgres adapter under faults', () => {
  it('answers ServiceUnavailable while the database is unreachable, then works again with the same storage object', async () => {
    const u = await newFundedUser(1000);
    await expect(storage.health.ping()).resolves.toBeUndefined();
    expect(await usd(storage, u)).toBe(1000);

    proxy.pause();
    proxy.cut();
    const refused = movement('withdrawal', u, 100);
    await expect(storage.health.ping()).rejects.toBeInstanceOf(ServiceUnavailable);
    await expect(storage.ledger.getBalances(u)).rejects.toBeInstanceOf(ServiceUnavailable);
    await expect(storage.ledger.withdraw(refused)).rejects.toBeInstanceOf(ServiceUnavailable);
    await expect(storage.users.get(u)).rejects.toBeInstanceOf(ServiceUnavailable);
    await expect(storage.ledger.claimIdempotency({ callerId: u, key: randomUUID(), fingerprint: 'f', token: randomUUID() }, times())).rejects.toBeInstanceOf(ServiceUnavailable);

    proxy.resume();
    await expect(storage.health.ping()).resolves.toBeUndefined();
    const w = await storage.ledger.withdraw(movement('withdrawal', u, 100));
    expect(await direct.ledger.getTransaction(w.id)).toEqual(w);
    expect(await direct.ledger.getTransaction(refused.id)).toBeNull();
    expect(await usd(direct, u)).toBe(900);
  });

  it('answers ServiceUnavailable when the network hangs (connect timeout), and recovers', async () => {
    proxy.blackhole();
    proxy.cut();
    await expect(storage.health.ping()).rejects.toBeInstanceOf(ServiceUnavailable);
    proxy.resume();
    proxy.cut(); // the hung sockets
    await expect(storage.health.ping()).resolves.toBeUndefined();
  });

  it('applies every movement fully or not at all when connections are cut mid-load, and the pool is not stuck', async () => {
    const accounts: string[] = [];
    for (let i = 0; i < 8; i++) accounts.push(await newFundedUser(1000));
    const attempts: { tx: Transaction; scope?: IdempotencyScope; acknowledged: boolean }[] = [];
    const unexpected: unknown[] = [];
    let settled = 0;
    let cuts = 0;

    const run = async (i: number): Promise<void> => {
      const from = accounts[i % accounts.length] as string;
      const to = accounts[(i * 3 + 1) % accounts.length] as string;
      const tx = to !== from && i % 3 !== 0 ? movement('transfer', from, 40 + (i % 7) * 15, to) : movement('withdrawal', from, 25 + (i % 5) * 10);
      const scope: IdempotencyScope = { callerId: from, key: `k-${randomUUID()}`, fingerprint: `fp-${i}`, token: randomUUID() };
      const attempt: { tx: Transaction; scope?: IdempotencyScope; acknowledged: boolean } = { tx, acknowledged: false };
      attempts.push(attempt);
      try {
        const claim = await storage.ledger.claimIdempotency(scope, times());
        if (claim.kind !== 'claimed') throw new Error(`unexpected claim ${claim.kind}`);
        attempt.scope = scope;
        await (tx.type === 'transfer' ? storage.ledger.transfer(tx, scope) : storage.ledger.withdraw(tx, scope));
        attempt.acknowledged = true;
      } catch (err) {
        if (!(err instanceof InsufficientFunds || err instanceof ServiceUnavailable)) unexpected.push(err);
      } finally {
        // Cut every live connection a few times, in the thick of the load.
        if (++settled % 30 === 0 && cuts < 4) {
          cuts++;
          proxy.cut();
        }
      }
    };
    await Promise.all(Array.from({ length: 160 }, (_, i) => run(i)));

    expect(unexpected).toEqual([]);
    expect(cuts).toBe(4);
    expect(attempts.filter((a) => a.acknowledged).length).toBeGreaterThan(0);
    await expectAllOrNothing(accounts, 1000, attempts);

    // Not stuck: the same pool serves a burst of new work.
    await expect(storage.health.ping()).resolves.toBeUndefined();
    const rich = await newFundedUser(500);
    const burst = await Promise.all(Array.from({ length: 20 }, () => storage.ledger.withdraw(movement('withdrawal', rich, 10))));
    expect(burst).toHaveLength(20);
    expect(await usd(direct, rich)).toBe(300);
  });

  it('survives pg_terminate_backend of its connections, idle or busy', async () => {
    const accounts: string[] = [];
    for (let i = 0; i < 4; i++) accounts.push(await newFundedUser(1000));
    // Fill the pool with live connections.
    await Promise.all(accounts.map((a) => storage.ledger.getBalances(a)));

    const terminate = async (): Promise<number> => {
      const { rows } = await admin.query<{ ok: boolean }>(
        `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
         WHERE datname = $1 AND application_name = 'wallet-service' AND pid <> pg_backend_pid()`,
        [DATABASE],
      );
      return rows.filter((r) => r.ok).length;
    };

    // Idle connections killed: the next calls just work.
    expect(await terminate()).toBeGreaterThan(0);
    await expect(storage.health.ping()).resolves.toBeUndefined();
    expect(await Promise.all(accounts.map((a) => usd(storage, a)))).toEqual([1000, 1000, 1000, 1000]);

    // Busy connections killed mid-load: all-or-nothing, and service afterwards.
    const attempts: { tx: Transaction; acknowledged: boolean }[] = [];
    const unexpected: unknown[] = [];
    let done = 0;
    let killed = 0;
    await Promise.all(
      Array.from({ length: 60 }, async (_, i) => {
        const tx = movement('transfer', accounts[i % 4] as string, 30 + (i % 4) * 10, accounts[(i + 1) % 4] as string);
        const attempt = { tx, acknowledged: false };
        attempts.push(attempt);
        try {
          await storage.ledger.transfer(tx);
          attempt.acknowledged = true;
        } catch (err) {
          if (!(err instanceof InsufficientFunds || err instanceof ServiceUnavailable)) unexpected.push(err);
        } finally {
          if (++done % 20 === 0) killed += await terminate();
        }
      }),
    );
    expect(unexpected).toEqual([]);
    expect(killed).toBeGreaterThan(0);
    await expectAllOrNothing(accounts, 1000, attempts);
    await expect(storage.health.ping()).resolves.toBeUndefined();
    await expect(storage.ledger.transfer(movement('transfer', accounts[0] as string, 1, accounts[1] as string))).resolves.toBeDefined();
  });

  it('meets a whole pool of idle connections that died unseen, and still answers', async () => {
    // What a failover or a proxy restart leaves behind: every idle client's server is
    // gone, and each client learns it only when it is next used. More dead clients than
    // the executor's attempts (3): pg_terminate_backend alone loses this race only now
    // and then, so each client is made to fail its next message the way pg reports it.
    const options = pgTestConfig(DATABASE, { POSTGRES_POOL_MAX: '6' }).postgres;
    const pool = new Pool(poolConfig(options));
    const db = makePgExecutor(pool, options.statementTimeoutMs);
    const killAll = async (): Promise<void> => {
      const clients: PoolClient[] = await Promise.all(Array.from({ length: 6 }, () => pool.connect()));
      for (const client of clients) {
        const query = client.query.bind(client) as (...args: unknown[]) => unknown;
        (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
          (client as unknown as { query: unknown }).query = query;
          const err = Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01', severity: 'FATAL' });
          const callback = args.find((a): a is (e: Error) => void => typeof a === 'function');
          if (callback) return void process.nextTick(() => callback(err));
          return Promise.reject(err);
        };
        client.release();
      }
      expect(pool.idleCount).toBe(6);
    };
    try {
      await killAll();
      await expect(db.query('SELECT 1 AS one', [], { idempotent: true })).resolves.toEqual([{ one: 1 }]);
      await killAll();
      await expect(db.transaction((s) => s.query('SELECT 2 AS two'))).resolves.toEqual([{ two: 2 }]);
      // A statement that may have written is never sent twice: it fails with the first dead client.
      await killAll();
      await expect(db.query('SELECT 3', [])).rejects.toBeInstanceOf(ServiceUnavailable);
    } finally {
      await pool.end();
    }
  });
});
