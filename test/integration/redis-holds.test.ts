// Redis-specific behaviour of holds and refunds beyond the shared contract: what a
// script leaves in storage when a debit releases expired holds, reads that compute a
// release without writing it, races settled by the scripts, and exact integers at 2^53.
import { Redis } from 'ioredis';
import { makeRedisStorage, openRedisStorage } from '../../src/adapters/redis';
import { closeRedisClient, createRedisClient } from '../../src/adapters/redis/redis-client';
import { redisKeys } from '../../src/adapters/redis/redis-keys';
import type { Storage } from '../../src/adapters/storage';
import { uuidv7 } from '../../src/adapters/system/system-clock';
import { BalanceOverflow, InvalidStateTransition, RefundExceedsAmount } from '../../src/core/errors';
import type { Hold } from '../../src/core/hold';
import { MAX_BALANCE } from '../../src/core/money';
import type { Transaction } from '../../src/core/transaction';
import { deleteKeysWithPrefix, redisTestConfig } from '../support/redis-test-env';

let ms = Date.parse('2033-01-01T00:00:00.000Z');
const iso = (at: number): string => new Date(at).toISOString();
const tick = (): string => iso(++ms);

const tx = (over: Partial<Transaction> & Pick<Transaction, 'type' | 'userId'>): Transaction => {
  const now = tick();
  return { id: uuidv7(), status: over.type === 'deposit' ? 'pending' : 'completed', amount: 1, currency: 'USD', metadata: {}, createdAt: now, updatedAt: now, ...over };
};
const newHold = (userId: string, amount: number, lifeMs: number, toUserId?: string): Hold => {
  const now = tick();
  return {
    id: uuidv7(), userId, ...(toUserId !== undefined && { toUserId }), amount, currency: 'USD', capturedAmount: 0, status: 'held',
    expiresAt: iso(ms + lifeMs), metadata: {}, createdAt: now, updatedAt: now,
  };
};
const captureOf = (h: Hold, amount: number): Transaction => ({
  ...tx({ type: h.toUserId === undefined ? 'withdrawal' : 'transfer', userId: h.userId, amount }),
  ...(h.toUserId !== undefined && { toUserId: h.toUserId }),
  holdId: h.id,
});

describe('redis holds and refunds specifics', () => {
  const config = redisTestConfig();
  const keys = redisKeys(config.redis.keyPrefix);
  let storage: Storage;
  let raw: Redis;
  beforeAll(async () => {
    storage = await openRedisStorage(config.redis);
    raw = new Redis({ host: config.redis.host, port: config.redis.port });
  });
  afterAll(async () => {
    raw.disconnect();
    await deleteKeysWithPrefix(config);
    await storage.close();
  });

  const user = async (): Promise<string> => {
    const id = `u-${uuidv7()}`;
    await storage.users.create({ id, email: `${id}@example.com`, name: 'U', createdAt: iso(ms) });
    return id;
  };
  const fund = async (userId: string, amount: number): Promise<void> => {
    const d = await storage.ledger.createDeposit(tx({ type: 'deposit', userId, amount }));
    await storage.ledger.settle({ id: d.id, status: 'completed', now: tick() });
  };

  it('releases the payer\'s expired holds inside the debit\'s own script', async () => {
    const a = await user();
    await fund(a, 100);
    const soon = await storage.ledger.createHold(newHold(a, 60, 10));
    const later = await storage.ledger.createHold(newHold(a, 30, 3_600_000));
    ms += 20;

    const client = createRedisClient(config.redis);
    const sent: string[] = [];
    const send = client.sendCommand.bind(client);
    client.sendCommand = ((command: { name: string }, ...rest: unknown[]) => {
      sent.push(command.name);
      return (send as (...args: unknown[]) => unknown)(command, ...rest);
    }) as typeof client.sendCommand;
    const counted = makeRedisStorage(client, config.redis.keyPrefix, () => closeRedisClient(client));
    try {
      await counted.ledger.withdraw(tx({ type: 'withdrawal', userId: a, amount: 5 }));
      // Only 10 is available unless the expired hold's 60 comes back in the same step.
      sent.length = 0;
      await counted.ledger.withdraw(tx({ type: 'withdrawal', userId: a, amount: 50 }));
      expect(sent).toEqual(['evalsha']);
    } finally {
      await counted.close();
    }
    expect(await raw.hgetall(keys.hold(soon.id))).toMatchObject({ status: 'expired', updatedAt: soon.expiresAt, capturedAmount: '0' });
    expect(await raw.hgetall(keys.balances(a))).toEqual({ USD: '15', 'held:USD': '30' });
    expect(await raw.zscore(keys.liveHolds(a), soon.id)).toBeNull();
    expect(await raw.zscore(keys.holdExpiries(), soon.id)).toBeNull();
    expect(await raw.zscore(keys.holdExpiries(), later.id)).toBe(String(Date.parse(later.expiresAt)));
    expect(await storage.ledger.getBalances(a, tick())).toEqual([{ currency: 'USD', available: 15, held: 30 }]);
  });

  it('reads a hold past its expiry as released without writing anything', async () => {
    const a = await user();
    await fund(a, 100);
    const h = await storage.ledger.createHold(newHold(a, 40, 10));
    const before = iso(Date.parse(h.expiresAt) - 1);
    expect(await storage.ledger.getBalances(a, before)).toEqual([{ currency: 'USD', available: 60, held: 40 }]);
    expect(await storage.ledger.getBalances(a, h.expiresAt)).toEqual([{ currency: 'USD', available: 100, held: 0 }]);
    expect(await storage.ledger.getHold(h.id, h.expiresAt)).toEqual({ ...h, status: 'expired', updatedAt: h.expiresAt });
    expect(await storage.ledger.listHolds({ userId: a, limit: 10, now: h.expiresAt, status: 'expired' })).toHaveLength(1);
    expect(await raw.hget(keys.hold(h.id), 'status')).toBe('held');
    expect(await raw.hgetall(keys.balances(a))).toEqual({ USD: '60', 'held:USD': '40' });

    await storage.ledger.releaseExpiredHolds({ now: h.expiresAt, limit: 1_000 });
    expect(await raw.hget(keys.hold(h.id), 'status')).toBe('expired');
    expect(await raw.hgetall(keys.balances(a))).toEqual({ USD: '100', 'held:USD': '0' });
  });

  it('drops an expiry entry whose hold is gone instead of blocking the queue on it', async () => {
    const ghost = uuidv7();
    await raw.zadd(keys.holdExpiries(), 1, ghost);
    await storage.ledger.releaseExpiredHolds({ now: tick(), limit: 1 });
    expect(await raw.zscore(keys.holdExpiries(), ghost)).toBeNull();
  });

  it('lets exactly one of racing captures, voids and the expiry release of a hold win', async () => {
    const [a, b] = [await user(), await user()];
    await fund(a, 1_000);
    for (let round = 0; round < 5; round++) {
      const h = await storage.ledger.createHold(newHold(a, 100, 1_000, b));
      const during = iso(Date.parse(h.expiresAt) - 1);
      const results = await Promise.allSettled([
        storage.ledger.captureHold({ holdId: h.id, transaction: captureOf(h, 40), now: during }),
        storage.ledger.voidHold({ holdId: h.id, now: during }),
        storage.ledger.captureHold({ holdId: h.id, transaction: captureOf(h, 100), now: during }),
        storage.ledger.voidHold({ holdId: h.id, now: during }),
        storage.ledger.releaseExpiredHolds({ now: h.expiresAt, limit: 1_000 }),
      ]);
      const moves = results.slice(0, 4);
      const expired = (await raw.hget(keys.hold(h.id), 'status')) === 'expired';
      expect(moves.filter((r) => r.status === 'fulfilled').length + (expired ? 1 : 0)).toBe(1);
      for (const r of moves) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(InvalidStateTransition);
    }
    const [pa, pb] = [await storage.ledger.getBalances(a, tick()), await storage.ledger.getBalances(b, tick())];
    expect(pa[0]?.held).toBe(0);
    expect((pa[0]?.available ?? 0) + (pb[0]?.available ?? 0)).toBe(1_000);
  });

  it('serialises racing partial refunds: together they never exceed the original', async () => {
    const [a, b] = [await user(), await user()];
    await fund(a, 100);
    const t = await storage.ledger.transfer(tx({ type: 'transfer', userId: a, toUserId: b, amount: 100, refundedAmount: 0 }));
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => {
      const refund = { ...tx({ type: 'refund', userId: b, toUserId: a, amount: 30 }), refundOf: t.id };
      return storage.ledger.refund({ refund, now: tick() });
    }));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(RefundExceedsAmount);
    expect((await storage.ledger.getTransaction(t.id))?.refundedAmount).toBe(90);
    expect(await storage.ledger.getBalances(a, tick())).toEqual([{ currency: 'USD', available: 90, held: 0 }]);
    expect(await storage.ledger.getBalances(b, tick())).toEqual([{ currency: 'USD', available: 10, held: 0 }]);
  });

  it('keeps a pending deposit refund in its own set until it settles; a failure credits back exactly', async () => {
    const a = await user();
    await fund(a, 100);
    const [deposit] = await storage.ledger.listTransactions({ userId: a, limit: 1, type: 'deposit' });
    const refund = { ...tx({ type: 'refund', userId: a, amount: 70 }), status: 'pending' as const, refundOf: deposit?.id as string };
    await storage.ledger.refund({ refund, now: refund.createdAt });
    expect(await raw.zscore(keys.pendingRefunds(), `${refund.createdAt}|${refund.id}`)).toBe('0');
    expect((await storage.ledger.listPendingRefunds({ createdBefore: tick(), limit: 1_000 })).map((r) => r.id)).toContain(refund.id);
    expect(await raw.hget(keys.balances(a), 'USD')).toBe('30');

    const now = tick();
    await storage.ledger.settle({ id: refund.id, status: 'failed', now });
    expect(await raw.zscore(keys.pendingRefunds(), `${refund.createdAt}|${refund.id}`)).toBeNull();
    expect(await raw.hget(keys.balances(a), 'USD')).toBe('100');
    expect(await storage.ledger.getTransaction(deposit?.id as string)).toMatchObject({ refundedAmount: 0, updatedAt: now });
  });

  it('keeps held money exact at the 2^53 edge: a capture whose rest cannot return is refused', async () => {
    const [a, b] = [await user(), await user()];
    await fund(a, 100_000_000_000);
    const h = await storage.ledger.createHold(newHold(a, 100_000_000_000, 3_600_000, b));
    // Credits meanwhile took the payer's available to the limit (seeded: reaching it takes 90,000 deposits).
    await raw.hset(keys.balances(a), 'USD', String(MAX_BALANCE));
    await expect(storage.ledger.captureHold({ holdId: h.id, transaction: captureOf(h, 1), now: tick() })).rejects.toBeInstanceOf(BalanceOverflow);
    expect(await raw.hgetall(keys.balances(a))).toEqual({ USD: String(MAX_BALANCE), 'held:USD': '100000000000' });

    const { hold } = await storage.ledger.captureHold({ holdId: h.id, transaction: captureOf(h, 100_000_000_000), now: tick() });
    expect(hold).toMatchObject({ status: 'captured', capturedAmount: 100_000_000_000 });
    expect(await raw.hgetall(keys.balances(a))).toEqual({ USD: String(MAX_BALANCE), 'held:USD': '0' });
    expect(await raw.hget(keys.hold(h.id), 'capturedAmount')).toBe('100000000000');
    expect(await storage.ledger.getBalances(b, tick())).toEqual([{ currency: 'USD', available: 100_000_000_000, held: 0 }]);
  });
  it('returns a capture\'s rest as an exact integer, and answers a capture script that already ran with what it stored', async () => {
    const [a, b] = [await user(), await user()];
    await fund(a, 100_000_000_000);
    const h = await storage.ledger.createHold(newHold(a, 100_000_000_000, 3_600_000, b));
    // The rest (computed inside the script) takes the payer's available exactly to the limit.
    await raw.hset(keys.balances(a), 'USD', String(MAX_BALANCE - 99_999_999_999));
    const now = tick();
    const t = captureOf(h, 1);
    const first = await storage.ledger.captureHold({ holdId: h.id, transaction: t, now });
    expect(first.hold).toEqual({ ...h, status: 'captured', capturedAmount: 1, transactionId: t.id, updatedAt: now });
    expect(await raw.hgetall(keys.balances(a))).toEqual({ USD: String(MAX_BALANCE), 'held:USD': '0' });
    // The same script again (ioredis resends a command whose reply a dropped connection lost):
    // the capture's transaction exists, so it answers what it stored instead of refusing a captured hold.
    expect(await storage.ledger.captureHold({ holdId: h.id, transaction: t, now })).toEqual(first);
    expect(await raw.hgetall(keys.balances(a))).toEqual({ USD: String(MAX_BALANCE), 'held:USD': '0' });
    expect(await storage.ledger.getBalances(b, tick())).toEqual([{ currency: 'USD', available: 1, held: 0 }]);
  });
});
