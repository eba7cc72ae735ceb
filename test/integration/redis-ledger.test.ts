// Redis-specific behaviour beyond the shared contract: filtered history reads past
// one batch, and exact integers at the 2^53 edge where Lua's doubles stop being exact.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { makeRedisStorage, openRedisStorage } from '../../src/adapters/redis';
import { closeRedisClient, createRedisClient } from '../../src/adapters/redis/redis-client';
import { redisKeys } from '../../src/adapters/redis/redis-keys';
import type { Storage } from '../../src/adapters/storage';
import { uuidv7 } from '../../src/adapters/system/system-clock';
import { BalanceOverflow, IdempotencyKeyInUse, InsufficientFunds, InvalidStateTransition, NotFound } from '../../src/core/errors';
import { MAX_BALANCE } from '../../src/core/money';
import type { ClaimTimes, IdempotencyScope } from '../../src/core/ports';
import type { Transaction } from '../../src/core/transaction';
import { deleteKeysWithPrefix, redisTestConfig } from '../support/redis-test-env';

let ms = Date.parse('2031-01-01T00:00:00.000Z');
const tx = (over: Partial<Transaction> & Pick<Transaction, 'type' | 'userId'>): Transaction => {
  const now = new Date(++ms).toISOString();
  return { id: uuidv7(), status: over.type === 'deposit' ? 'pending' : 'completed', amount: 1, currency: 'USD', metadata: {}, createdAt: now, updatedAt: now, ...over };
};

describe('redis ledger specifics', () => {
  const config = redisTestConfig();
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
    await storage.users.create({ id, email: `${id}@example.com`, name: 'U', createdAt: new Date(ms).toISOString() });
    return id;
  };
  const fund = async (userId: string, amount: number): Promise<void> => {
    const d = await storage.ledger.createDeposit(tx({ type: 'deposit', userId, amount }));
    await storage.ledger.settle({ id: d.id, status: 'completed', now: new Date(++ms).toISOString() });
  };

  it('fills a filtered page from items older than many non-matching ones', async () => {
    const [a, b] = [await user(), await user()];
    await fund(a, 10_000);
    const withdrawals: string[] = [];
    for (let i = 0; i < 7; i++) withdrawals.push((await storage.ledger.withdraw(tx({ type: 'withdrawal', userId: a }))).id);
    for (let i = 0; i < 300; i++) await storage.ledger.transfer(tx({ type: 'transfer', userId: a, toUserId: b }));

    const page1 = await storage.ledger.listTransactions({ userId: a, limit: 4, type: 'withdrawal' });
    expect(page1.map((t) => t.id)).toEqual(withdrawals.slice(3).reverse());
    const last = page1[3] as Transaction;
    const page2 = await storage.ledger.listTransactions({ userId: a, limit: 4, type: 'withdrawal', before: { createdAt: last.createdAt, id: last.id } });
    expect(page2.map((t) => t.id)).toEqual(withdrawals.slice(0, 3).reverse());
    expect(await storage.ledger.listTransactions({ userId: a, limit: 2, status: 'completed', type: 'deposit' })).toHaveLength(1);
  });

  it('keeps balances exact up to 2^53-1: a transfer past it is refused with no effect, a deposit past it is failed', async () => {
    const [a, b] = [await user(), await user()];
    await fund(a, 10);
    // Seed a balance just under the limit directly: reaching it through deposits would take 90,000 of them.
    await raw.hset(redisKeys(config.redis.keyPrefix).balances(b), 'USD', String(MAX_BALANCE - 3));
    await storage.ledger.transfer(tx({ type: 'transfer', userId: a, toUserId: b, amount: 3 }));
    expect(await storage.ledger.getBalances(b)).toEqual([{ currency: 'USD', available: MAX_BALANCE, held: 0 }]);

    const tooMuch = tx({ type: 'transfer', userId: a, toUserId: b, amount: 1 });
    await expect(storage.ledger.transfer(tooMuch)).rejects.toBeInstanceOf(BalanceOverflow);
    const pending = await storage.ledger.createDeposit(tx({ type: 'deposit', userId: b, amount: 1 }));
    expect((await storage.ledger.settle({ id: pending.id, status: 'completed', now: new Date(++ms).toISOString() })).status).toBe('failed');
    expect(await storage.ledger.getTransaction(tooMuch.id)).toBeNull();
    expect((await storage.ledger.getTransaction(pending.id))?.status).toBe('failed');
    expect(await storage.ledger.getBalances(b)).toEqual([{ currency: 'USD', available: MAX_BALANCE, held: 0 }]);
    expect(await storage.ledger.getBalances(a)).toEqual([{ currency: 'USD', available: 7, held: 0 }]);

    // Debits near the limit stay exact, and a balance one short of the amount is refused.
    await expect(storage.ledger.withdraw(tx({ type: 'withdrawal', userId: b, amount: 1, currency: 'USD' })).then(() => 'ok')).resolves.toBe('ok');
    expect(await storage.ledger.getBalances(b)).toEqual([{ currency: 'USD', available: MAX_BALANCE - 1, held: 0 }]);
    await raw.hset(redisKeys(config.redis.keyPrefix).balances(b), 'EUR', '99999999999');
    await expect(storage.ledger.withdraw(tx({ type: 'withdrawal', userId: b, amount: 100_000_000_000, currency: 'EUR' }))).rejects.toBeInstanceOf(InsufficientFunds);
    expect((await storage.ledger.getBalances(b)).find((x) => x.currency === 'EUR')?.available).toBe(99_999_999_999);
  });

  it('checks the key before refusals it reads (missing, not pending), as the port orders them', async () => {
    const a = await user();
    const claimAt = (offsetMs: number, leaseMs: number): ClaimTimes => {
      const now = new Date(ms + offsetMs).toISOString();
      return { now, leaseUntil: new Date(ms + offsetMs + leaseMs).toISOString(), expiresAt: new Date(ms + offsetMs + 86_400_000).toISOString() };
    };
    const first: IdempotencyScope = { callerId: a, key: `k-${randomUUID()}`, fingerprint: 'fp', token: randomUUID() };
    await storage.ledger.claimIdempotency(first, claimAt(0, 1_000));
    const d = await storage.ledger.createDeposit(tx({ type: 'deposit', userId: a, amount: 5 }), first);
    const second: IdempotencyScope = { ...first, token: randomUUID() };
    expect(await storage.ledger.claimIdempotency(second, claimAt(5_000, 60_000))).toEqual({ kind: 'claimed', transactionId: d.id });
    expect(await raw.hget(redisKeys(config.redis.keyPrefix).idempotency(first), 'token')).toBe(second.token);
    await storage.ledger.settle({ id: d.id, status: 'failed', now: new Date(++ms).toISOString() });

    // The holder gets the refusal the read decides; the stale request is told the key is not its own.
    await expect(storage.ledger.settle({ id: d.id, status: 'completed', now: new Date(++ms).toISOString() }, second)).rejects.toBeInstanceOf(InvalidStateTransition);
    await expect(storage.ledger.settle({ id: d.id, status: 'completed', now: new Date(++ms).toISOString() }, first)).rejects.toBeInstanceOf(IdempotencyKeyInUse);
    await expect(storage.ledger.settle({ id: uuidv7(), status: 'completed', now: new Date(++ms).toISOString() }, second)).rejects.toBeInstanceOf(NotFound);
    await expect(storage.ledger.settle({ id: uuidv7(), status: 'completed', now: new Date(++ms).toISOString() }, first)).rejects.toBeInstanceOf(IdempotencyKeyInUse);
    expect(await storage.ledger.claimIdempotency({ ...first, token: randomUUID() }, claimAt(6_000, 60_000))).toEqual({ kind: 'in_use' });
    expect(await storage.ledger.getBalances(a)).toEqual([{ currency: 'USD', available: 0, held: 0 }]);
  });

  describe('fast path (claim with the movement)', () => {
    const idemKey = (s: IdempotencyScope): string => redisKeys(config.redis.keyPrefix).idempotency(s);
    const newScope = (callerId: string): IdempotencyScope => ({ callerId, key: `k-${randomUUID()}`, fingerprint: `fp-${randomUUID()}`, token: randomUUID() });
    const times = (): ClaimTimes => {
      const now = new Date(++ms).toISOString();
      return { now, leaseUntil: new Date(ms + 30_000).toISOString(), expiresAt: new Date(ms + 86_400_000).toISOString() };
    };

    it('creates the record exactly as a claim followed by the movement would, expiry included', async () => {
      const [a, b] = [await user(), await user()];
      await fund(a, 100);
      for (const move of ['withdraw', 'transfer'] as const) {
        const t = times();
        const movement = (): Transaction =>
          move === 'withdraw' ? tx({ type: 'withdrawal', userId: a }) : tx({ type: 'transfer', userId: a, toUserId: b });
        const regular = newScope(a);
        await storage.ledger.claimIdempotency(regular, t);
        const slow = await storage.ledger[move](movement(), regular);
        const fast = newScope(a);
        const quick = await storage.ledger[move](movement(), fast, t);

        const [slowHash, fastHash] = [await raw.hgetall(idemKey(regular)), await raw.hgetall(idemKey(fast))];
        expect(slowHash).toEqual({ fp: regular.fingerprint, state: 'done', token: regular.token, leaseUntil: t.leaseUntil, expiresAt: t.expiresAt,
          outcome: JSON.stringify({ kind: 'transaction', transaction: slow }) });
        expect(fastHash).toEqual({ fp: fast.fingerprint, state: 'done', token: fast.token, leaseUntil: t.leaseUntil, expiresAt: t.expiresAt,
          outcome: JSON.stringify({ kind: 'transaction', transaction: quick }) });
        expect(await raw.call('PEXPIRETIME', idemKey(fast))).toBe(Date.parse(t.expiresAt));
        expect(await raw.call('PEXPIRETIME', idemKey(regular))).toBe(Date.parse(t.expiresAt));
        expect(await storage.ledger.claimIdempotency({ ...fast, token: randomUUID() }, times()))
          .toEqual({ kind: 'replay', outcome: { kind: 'transaction', transaction: quick } });
      }
      expect(await storage.ledger.getBalances(a)).toEqual([{ currency: 'USD', available: 96, held: 0 }]);
    });

    it('runs as one script call per movement', async () => {
      const client = createRedisClient(config.redis);
      const sent: string[] = [];
      const send = client.sendCommand.bind(client);
      client.sendCommand = ((command: { name: string }, ...rest: unknown[]) => {
        sent.push(command.name);
        return (send as (...args: unknown[]) => unknown)(command, ...rest);
      }) as typeof client.sendCommand;
      const counted = makeRedisStorage(client, config.redis.keyPrefix, () => closeRedisClient(client));
      try {
        const [a, b] = [await user(), await user()];
        await fund(a, 10);
        // Loads both scripts into the server's cache, so the counted calls need no EVAL fallback.
        await counted.ledger.withdraw(tx({ type: 'withdrawal', userId: a }));
        await counted.ledger.transfer(tx({ type: 'transfer', userId: a, toUserId: b }));
        sent.length = 0;
        await counted.ledger.withdraw(tx({ type: 'withdrawal', userId: a }), newScope(a), times());
        expect(sent).toEqual(['evalsha']);
        sent.length = 0;
        await counted.ledger.transfer(tx({ type: 'transfer', userId: a, toUserId: b }), newScope(a), times());
        expect(sent).toEqual(['evalsha']);
        sent.length = 0;
        await expect(counted.ledger.withdraw(tx({ type: 'withdrawal', userId: a, amount: 1_000 }), newScope(a), times())).rejects.toBeInstanceOf(InsufficientFunds);
        expect(sent).toEqual(['evalsha']);
      } finally {
        await counted.close();
      }
    });

    it('checks the key, then the transaction: a key on record wins over a stored transaction, a new key meets it', async () => {
      const [a, b] = [await user(), await user()];
      await fund(a, 100);
      for (const move of ['withdraw', 'transfer'] as const) {
        const movement = move === 'withdraw' ? tx({ type: 'withdrawal', userId: a }) : tx({ type: 'transfer', userId: a, toUserId: b });
        const first = newScope(a);
        const stored = await storage.ledger[move](movement, first, times());
        // The same transaction again under the key on record: the key answers first.
        await expect(storage.ledger[move](movement, { ...first, token: randomUUID() }, times())).rejects.toBeInstanceOf(IdempotencyKeyInUse);
        // Under a new key: the stored transaction is answered, nothing moves twice, no record is made.
        const fresh = newScope(a);
        expect(await storage.ledger[move](movement, fresh, times())).toEqual(stored);
        expect(await raw.exists(idemKey(fresh))).toBe(0);
      }
      expect(await storage.ledger.getBalances(a)).toEqual([{ currency: 'USD', available: 98, held: 0 }]);
    });

    it('leaves a key with any record alone: open, or past its expiresAt but not yet evicted', async () => {
      const [a, b] = [await user(), await user()];
      await fund(a, 100);
      const released = newScope(a);
      await storage.ledger.claimIdempotency(released, times());
      await storage.ledger.releaseIdempotency(released);
      const stale = newScope(a);
      await raw.hset(idemKey(stale), 'fp', stale.fingerprint, 'state', 'done', 'token', stale.token, 'leaseUntil', '2000-01-01T00:00:00.000Z',
        'expiresAt', '2000-01-01T00:00:01.000Z', 'outcome', '{"kind":"error","error":{}}');
      for (const s of [released, stale]) {
        const before = await raw.hgetall(idemKey(s));
        const w = tx({ type: 'withdrawal', userId: a });
        const t = tx({ type: 'transfer', userId: a, toUserId: b });
        await expect(storage.ledger.withdraw(w, { ...s, token: randomUUID() }, times())).rejects.toBeInstanceOf(IdempotencyKeyInUse);
        await expect(storage.ledger.transfer(t, { ...s, token: randomUUID() }, times())).rejects.toBeInstanceOf(IdempotencyKeyInUse);
        expect(await raw.hgetall(idemKey(s))).toEqual(before);
        expect(await storage.ledger.getTransaction(w.id)).toBeNull();
        expect(await storage.ledger.getTransaction(t.id)).toBeNull();
      }
      expect(await storage.ledger.getBalances(a)).toEqual([{ currency: 'USD', available: 100, held: 0 }]);
      expect(await storage.ledger.getBalances(b)).toEqual([]);
    });

    it('writes no record when the movement is refused (insufficient funds, balance overflow)', async () => {
      const [a, b] = [await user(), await user()];
      await fund(a, 10);
      const poor = newScope(a);
      await expect(storage.ledger.withdraw(tx({ type: 'withdrawal', userId: a, amount: 11 }), poor, times())).rejects.toBeInstanceOf(InsufficientFunds);
      expect(await raw.exists(idemKey(poor))).toBe(0);
      await raw.hset(redisKeys(config.redis.keyPrefix).balances(b), 'USD', String(MAX_BALANCE));
      const full = newScope(a);
      await expect(storage.ledger.transfer(tx({ type: 'transfer', userId: a, toUserId: b, amount: 1 }), full, times())).rejects.toBeInstanceOf(BalanceOverflow);
      expect(await raw.exists(idemKey(full))).toBe(0);
      expect(await storage.ledger.getBalances(a)).toEqual([{ currency: 'USD', available: 10, held: 0 }]);
    });
  });

  it('stores amounts as integer strings changed only by integer commands', async () => {
    const a = await user();
    await fund(a, 123_456_789_012);
    expect(await raw.hget(redisKeys(config.redis.keyPrefix).balances(a), 'USD')).toBe('123456789012');
  });
});

describe('redis storage lifecycle', () => {
  it('keeps serving the next storage when the previous one on the same server is closed', async () => {
    // What the composition root does when only non-Redis settings change: build new, then close old.
    const config = redisTestConfig();
    const previous = await openRedisStorage(config.redis);
    const next = await openRedisStorage({ ...config.redis });
    await previous.close();
    try {
      await expect(next.health.ping()).resolves.toBeUndefined();
      await expect(next.users.get(`nobody-${uuidv7()}`)).resolves.toBeNull();
    } finally {
      await next.close();
    }
  });
});
