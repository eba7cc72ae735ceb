// The PostgreSQL ledger's lock order for holds and refunds, observed directly: a
// step is stopped on a row another client holds, and we look at which rows it has
// locked by then. Every step that touches two users locks like a transfer (the lower
// user id first, a user's holds just before their balance), a refund locks its
// original before any balance, and the scheduled release never waits at all — so
// none of them can deadlock with each other or with transfers.
import { randomUUID } from 'node:crypto';
import type { Client } from 'pg';
import { openPostgresStorage } from '../../src/adapters/postgres';
import type { Storage } from '../../src/adapters/storage';
import { uuidv7 } from '../../src/adapters/system/system-clock';
import type { Hold } from '../../src/core/hold';
import type { Transaction } from '../../src/core/transaction';
import { directClient, dropDatabase, ensureDatabase, pgTestConfig } from '../support/postgres';

// Only this file uses it: the wait detection below looks at the whole database.
const DATABASE = `wallet_pg_locks_${randomUUID().slice(0, 8)}`;

let storage: Storage;
/** Holds a row lock in an open transaction while the step under test runs. */
let blocker: Client;
/** Probes row locks with NOWAIT. */
let probe: Client;

beforeAll(async () => {
  await ensureDatabase(DATABASE);
  storage = await openPostgresStorage(pgTestConfig(DATABASE).postgres);
  blocker = await directClient(DATABASE);
  probe = await directClient(DATABASE);
});
afterAll(async () => {
  await blocker?.end();
  await probe?.end();
  await storage?.close();
  await dropDatabase(DATABASE);
});

const now = (): string => new Date().toISOString();
const user = async (id: string, funds = 0): Promise<string> => {
  await storage.users.create({ id, email: `${id}@example.com`, name: 'Lock', createdAt: now() });
  if (funds > 0) {
    const at = now();
    const d = await storage.ledger.createDeposit({ id: uuidv7(), type: 'deposit', status: 'pending', userId: id, amount: funds, currency: 'USD', metadata: {}, refundedAmount: 0, createdAt: at, updatedAt: at });
    await storage.ledger.settle({ id: d.id, status: 'completed', now: at });
  }
  return id;
};
const hold = (userId: string, amount: number, toUserId?: string, expiresAt = new Date(Date.now() + 3_600_000).toISOString()): Hold => {
  const at = now();
  return { id: uuidv7(), userId, ...(toUserId && { toUserId }), amount, currency: 'USD', capturedAmount: 0, status: 'held', expiresAt, metadata: {}, createdAt: at, updatedAt: at };
};

/** Resolves once some statement of the database waits for a lock. */
const someoneWaits = async (): Promise<void> => {
  for (;;) {
    const { rows } = await probe.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'`, [DATABASE],
    );
    if (rows[0].n > 0) return;
    await new Promise((r) => setTimeout(r, 20));
  }
};
/** Whether another transaction holds a lock on the row `where` selects. */
const locked = async (table: string, where: string, params: unknown[]): Promise<boolean> => {
  await probe.query('BEGIN');
  try {
    await probe.query(`SELECT 1 FROM ${table} WHERE ${where} FOR UPDATE NOWAIT`, params);
    return false;
  } catch (err) {
    if ((err as { code?: string }).code === '55P03') return true;
    throw err;
  } finally {
    await probe.query('ROLLBACK');
  }
};
/** Runs `step` while `blocker` holds the row lock `lock` takes; `whileBlocked` looks at the locks meanwhile. */
const whileStopped = async <T>(lock: [string, unknown[]], step: () => Promise<T>, whileBlocked: () => Promise<void>): Promise<T> => {
  await blocker.query('BEGIN');
  await blocker.query(lock[0], lock[1]);
  const running = step();
  try {
    await someoneWaits();
    await whileBlocked();
  } finally {
    await blocker.query('ROLLBACK');
  }
  return running;
};
const lockBalance = (userId: string): [string, unknown[]] =>
  ['SELECT 1 FROM balances WHERE user_id = $1 AND currency = $2 FOR UPDATE', [userId, 'USD']];

describe('postgres lock order for holds and refunds', () => {
  it('a capture whose payee has the lower user id locks the payee before the hold (the transfer order)', async () => {
    const payee = await user(`a-${randomUUID()}`, 1);
    const payer = await user(`b-${randomUUID()}`, 500);
    const h = await storage.ledger.createHold(hold(payer, 200, payee));
    const at = now();
    const capture: Transaction = { id: uuidv7(), type: 'transfer', status: 'completed', userId: payer, toUserId: payee, amount: 150, currency: 'USD', metadata: {}, refundedAmount: 0, holdId: h.id, createdAt: at, updatedAt: at };
    const result = await whileStopped(lockBalance(payee), () => storage.ledger.captureHold({ holdId: h.id, transaction: capture, now: at }), async () => {
      // Waiting for the payee's balance, the capture holds nothing of the payer's yet.
      expect(await locked('holds', 'id = $1', [h.id])).toBe(false);
    });
    expect(result.hold.status).toBe('captured');
    expect(await storage.ledger.getBalances(payer)).toEqual([{ currency: 'USD', available: 350, held: 0 }]);
    expect(await storage.ledger.getBalances(payee)).toEqual([{ currency: 'USD', available: 151, held: 0 }]);
  });

  it('a refund locks its original before any balance, and a failed deposit refund does the same when it settles', async () => {
    const owner = await user(`c-${randomUUID()}`, 1000);
    const [deposit] = await storage.ledger.listTransactions({ userId: owner, limit: 1 });
    if (!deposit) throw new Error('no deposit');
    const at = now();
    const refund: Transaction = { id: uuidv7(), type: 'refund', status: 'pending', userId: owner, amount: 400, currency: 'USD', metadata: {}, refundOf: deposit.id, createdAt: at, updatedAt: at };
    await whileStopped(lockBalance(owner), () => storage.ledger.refund({ refund, now: at }), async () => {
      expect(await locked('transactions', 'id = $1', [deposit.id])).toBe(true);
    });
    const failed = await whileStopped(lockBalance(owner), () => storage.ledger.settle({ id: refund.id, status: 'failed', now: now() }), async () => {
      expect(await locked('transactions', 'id = $1', [deposit.id])).toBe(true);
    });
    expect(failed.status).toBe('failed');
    expect((await storage.ledger.getTransaction(deposit.id))?.refundedAmount).toBe(0);
    expect(await storage.ledger.getBalances(owner)).toEqual([{ currency: 'USD', available: 1000, held: 0 }]);
  });

  it('the scheduled release never waits: it skips a payer whose balance is locked, and a later run releases it', async () => {
    const busy = await user(`d-${randomUUID()}`, 100);
    const idle = await user(`e-${randomUUID()}`, 100);
    const soon = new Date(Date.now() + 50).toISOString();
    const hb = await storage.ledger.createHold(hold(busy, 30, undefined, soon));
    const hi = await storage.ledger.createHold(hold(idle, 40, undefined, soon));
    await new Promise((r) => setTimeout(r, 60));
    await blocker.query('BEGIN');
    try {
      await blocker.query(...lockBalance(busy));
      await storage.ledger.releaseExpiredHolds({ now: now(), limit: 100 });
    } finally {
      await blocker.query('ROLLBACK');
    }
    // As stored: read at a time before any expiry.
    const stored = async (id: string): Promise<string | undefined> => (await storage.ledger.getHold(id, '2000-01-01T00:00:00.000Z'))?.status;
    expect(await stored(hi.id)).toBe('expired');
    expect(await stored(hb.id)).toBe('held');
    expect(await storage.ledger.releaseExpiredHolds({ now: now(), limit: 100 })).toBe(1);
    expect(await stored(hb.id)).toBe('expired');
    expect(await storage.ledger.getBalances(busy)).toEqual([{ currency: 'USD', available: 100, held: 0 }]);
  });
});
