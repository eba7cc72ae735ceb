// Redis failing under the adapter: connections killed mid-load, replies lost after
// the scripts ran, and a server unreachable for a while. Money must stay exact and
// the same storage object must recover on its own.
import { Redis } from 'ioredis';
import { makeRedisStorage, openRedisStorage } from '../../src/adapters/redis';
import { closeRedisClient, createRedisClient } from '../../src/adapters/redis/redis-client';
import type { Storage } from '../../src/adapters/storage';
import { systemClock, uuidV7Ids, uuidv7 } from '../../src/adapters/system/system-clock';
import { DomainError, ServiceUnavailable } from '../../src/core/errors';
import type { PaymentGateway } from '../../src/core/ports';
import type { Transaction } from '../../src/core/transaction';
import { makeUseCases } from '../../src/core/use-cases';
import { startRedisProxy, type RedisProxy } from '../support/redis-proxy';
import { deleteKeysWithPrefix, redisTestConfig } from '../support/redis-test-env';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const noGateway: PaymentGateway = {
  charge: async () => { throw new Error('not used'); },
  getPaymentStatus: async () => null,
  refund: async () => { throw new Error('not used'); },
  getRefundStatus: async () => null,
};

const fund = async (s: Storage, userId: string, amount: number): Promise<void> => {
  const now = systemClock.now();
  const d = await s.ledger.createDeposit({
    id: uuidv7(), type: 'deposit', status: 'pending', userId, amount, currency: 'USD', metadata: {}, createdAt: now, updatedAt: now,
  });
  await s.ledger.settle({ id: d.id, status: 'completed', now: systemClock.now() });
};

const usd = async (s: Storage, userId: string): Promise<number> =>
  (await s.ledger.getBalances(userId)).find((b) => b.currency === 'USD')?.available ?? 0;

/** Polls until `check` stops throwing. */
const eventually = async (check: () => Promise<void>, attempts = 100): Promise<void> => {
  for (let i = 0; ; i++) {
    try {
      return await check();
    } catch (err) {
      if (i >= attempts) throw err;
      await sleep(100);
    }
  }
};

type Final = { tx: Transaction } | { refused: string };
const ACCOUNTS = 10;
const START = 1000;

/**
 * 32 callers each run 20 idempotent transfers through the real use case, retrying
 * with the same key after 503 / 409 as a client would. `disrupt` runs (awaited by the
 * caller that reached the count) after 60, 250 and 450 operations have finished, so
 * the other callers are mid-flight when it strikes.
 */
const runLoad = async (storage: Storage, disrupt: () => Promise<void>) => {
  const accounts: string[] = [];
  for (let i = 0; i < ACCOUNTS; i++) {
    const id = `fault-${uuidv7()}`;
    await storage.users.create({ id, email: `${id}@example.com`, name: 'F', createdAt: systemClock.now() });
    await fund(storage, id, START);
    accounts.push(id);
  }
  const useCases = makeUseCases({
    ledger: storage.ledger, users: storage.users, health: storage.health, gateway: noGateway, clock: systemClock, ids: uuidV7Ids,
    // A short lease, so a claim orphaned by a dead connection is taken over by the retry.
    limits: { maxAmount: 100_000_000_000, idempotencyLeaseMs: 200, idempotencyTtlMs: 86_400_000 },
  });
  let finishedOps = 0;
  let disruptions = 0;
  let unavailable = 0;
  const disruptAt = new Set([60, 250, 450]);
  const finished = async (f: Final): Promise<Final> => {
    if (disruptAt.has(++finishedOps)) {
      await disrupt();
      disruptions++;
    }
    return f;
  };
  const operation = async (i: number): Promise<Final> => {
    const from = accounts[i % ACCOUNTS] as string;
    const to = accounts[(i + 1 + (i % 9)) % ACCOUNTS] as string; // offset 1..9: never the sender
    const input = { toUserId: to, amount: 30 + (i % 17) * 23, currency: 'USD', idempotencyKey: `op-${i}` };
    for (let attempt = 0; attempt < 400; attempt++) {
      let transaction: Transaction;
      try {
        ({ transaction } = await useCases.createTransfer({ id: from, isAdmin: false }, input));
      } catch (err) {
        if (!(err instanceof DomainError)) throw err;
        if (err.code === 'insufficient_funds') return finished({ refused: err.code });
        if (err.code !== 'service_unavailable' && err.code !== 'idempotency_key_in_use') throw err;
        if (err.code === 'service_unavailable') unavailable++;
        await sleep(25);
        continue;
      }
      return finished({ tx: transaction });
    }
    throw new Error(`operation ${i} never finished`);
  };
  const finals: Final[] = [];
  await Promise.all(Array.from({ length: 32 }, async (_, w) => {
    for (let j = 0; j < 20; j++) finals.push(await operation(w * 20 + j));
  }));
  return { accounts, finals, disruptions, unavailable };
};

/** Conservation, no overdraft, each logical transfer applied once, everything acknowledged stored. */
const expectExactlyOnce = async (storage: Storage, accounts: string[], finals: Final[]): Promise<void> => {
  const done = finals.flatMap((f) => ('tx' in f ? [f.tx] : []));
  expect(done.length).toBeGreaterThan(100);
  const expected = new Map(accounts.map((a) => [a, START]));
  for (const t of done) {
    expected.set(t.userId, (expected.get(t.userId) ?? 0) - t.amount);
    expected.set(t.toUserId as string, (expected.get(t.toUserId as string) ?? 0) + t.amount);
  }
  const actual = new Map<string, number>();
  for (const a of accounts) actual.set(a, await usd(storage, a));
  expect(actual).toEqual(expected);
  for (const b of actual.values()) expect(b).toBeGreaterThanOrEqual(0);
  expect([...actual.values()].reduce((s, b) => s + b, 0)).toBe(ACCOUNTS * START);

  const listed = new Map<string, string[]>();
  for (const a of accounts) listed.set(a, (await storage.ledger.listTransactions({ userId: a, limit: 1000, type: 'transfer' })).map((t) => t.id));
  for (const t of done) {
    expect(await storage.ledger.getTransaction(t.id)).toEqual(t);
    expect(listed.get(t.userId)?.filter((id) => id === t.id)).toHaveLength(1);
    expect(listed.get(t.toUserId as string)?.filter((id) => id === t.id)).toHaveLength(1);
  }
  expect(new Set([...listed.values()].flat())).toEqual(new Set(done.map((t) => t.id)));
};

describe('redis adapter under faults', () => {
  const config = redisTestConfig();
  let proxy: RedisProxy;
  beforeAll(async () => {
    proxy = await startRedisProxy({ host: config.redis.host, port: config.redis.port });
  });
  afterAll(async () => {
    await proxy?.close();
    await deleteKeysWithPrefix(config);
  });

  it('applies each idempotent transfer exactly once when its connection is killed mid-load', async () => {
    const client = createRedisClient(config.redis);
    const admin = new Redis({ host: config.redis.host, port: config.redis.port });
    const storage = makeRedisStorage(client, config.redis.keyPrefix, () => closeRedisClient(client));
    const kill = async (): Promise<void> => {
      for (;;) {
        const id = await client.client('ID').catch(() => null);
        if (id !== null && (await admin.client('KILL', 'ID', String(id)).catch(() => 0)) === 1) return;
        await sleep(10); // still reconnecting from the previous kill
      }
    };
    try {
      await eventually(() => storage.health.ping());
      const { accounts, finals, disruptions, unavailable } = await runLoad(storage, kill);
      expect(disruptions).toBe(3);
      expect(unavailable).toBeGreaterThan(0);
      await eventually(() => storage.health.ping());
      await expectExactlyOnce(storage, accounts, finals);
    } finally {
      admin.disconnect();
      await storage.close();
    }
  });

  it('applies each idempotent transfer exactly once when replies are lost after the scripts ran', async () => {
    const client = createRedisClient({ ...config.redis, port: proxy.port });
    const storage = makeRedisStorage(client, config.redis.keyPrefix, () => closeRedisClient(client));
    // Commands reach Redis and run, their replies vanish, then the connection dies: unknown outcomes.
    const loseReplies = async (): Promise<void> => {
      proxy.dropReplies();
      await sleep(30);
      await proxy.stop();
      await proxy.start();
    };
    try {
      await eventually(() => storage.health.ping());
      const { accounts, finals, disruptions, unavailable } = await runLoad(storage, loseReplies);
      expect(disruptions).toBe(3);
      expect(unavailable).toBeGreaterThan(0);
      await eventually(() => storage.health.ping());
      await expectExactlyOnce(storage, accounts, finals);
    } finally {
      await storage.close();
    }
  });

  it('answers ServiceUnavailable while Redis is unreachable and recovers with the same storage object', async () => {
    const client = createRedisClient({ ...config.redis, port: proxy.port });
    const storage = makeRedisStorage(client, config.redis.keyPrefix, () => closeRedisClient(client));
    try {
      await eventually(() => storage.health.ping());
      const user = `down-${uuidv7()}`;
      await storage.users.create({ id: user, email: 'd@example.com', name: 'D', createdAt: systemClock.now() });
      await fund(storage, user, 500);

      await proxy.stop();
      const now = systemClock.now();
      const withdrawal: Transaction = {
        id: uuidv7(), type: 'withdrawal', status: 'completed', userId: user, amount: 200, currency: 'USD', metadata: {}, createdAt: now, updatedAt: now,
      };
      await expect(storage.health.ping()).rejects.toBeInstanceOf(ServiceUnavailable);
      await expect(storage.ledger.withdraw(withdrawal)).rejects.toBeInstanceOf(ServiceUnavailable);
      await expect(storage.users.get(user)).rejects.toBeInstanceOf(ServiceUnavailable);
      await expect(storage.ledger.getBalances(user)).rejects.toBeInstanceOf(ServiceUnavailable);

      await proxy.start();
      await eventually(() => storage.health.ping());
      // The refused withdrawal was not queued and applied later.
      expect(await usd(storage, user)).toBe(500);
      expect(await storage.ledger.getTransaction(withdrawal.id)).toBeNull();
      await expect(storage.ledger.withdraw({ ...withdrawal, id: uuidv7() })).resolves.toMatchObject({ amount: 200 });
      expect(await usd(storage, user)).toBe(300);
    } finally {
      await storage.close();
    }
  });

  it('serves the first request after Redis answers again, even when the outage had the client backing off', async () => {
    const client = createRedisClient({ ...config.redis, port: proxy.port });
    const storage = makeRedisStorage(client, config.redis.keyPrefix, () => closeRedisClient(client));
    try {
      await eventually(() => storage.health.ping());
      await proxy.stop();
      await expect(storage.health.ping()).rejects.toBeInstanceOf(ServiceUnavailable);
      // Long enough for the reconnect backoff to reach its longest step.
      await sleep(2_500);
      await proxy.start();
      await expect(storage.users.get(`nobody-${uuidv7()}`)).resolves.toBeNull();
    } finally {
      await storage.close();
    }
  });

  it('fails a command in flight on a connection that closes at once, not after the command timeout', async () => {
    const client = createRedisClient({ ...config.redis, port: proxy.port, commandTimeoutMs: 60_000 });
    const storage = makeRedisStorage(client, config.redis.keyPrefix, () => closeRedisClient(client));
    try {
      await eventually(() => storage.health.ping());
      proxy.dropReplies();
      const inFlight = storage.users.get(`nobody-${uuidv7()}`);
      await sleep(50);
      await proxy.stop();
      await proxy.start();
      await expect(inFlight).rejects.toBeInstanceOf(ServiceUnavailable);
      await eventually(() => storage.health.ping());
    } finally {
      await storage.close();
    }
  }, 20_000);

  it('opens at a cold start during an outage and serves once Redis is back', async () => {
    await proxy.stop();
    const storage = await openRedisStorage({ ...config.redis, port: proxy.port, connectTimeoutMs: 200 });
    try {
      await expect(storage.health.ping()).rejects.toBeInstanceOf(ServiceUnavailable);
      await expect(storage.users.get('nobody')).rejects.toBeInstanceOf(ServiceUnavailable);
      await proxy.start();
      await eventually(() => storage.health.ping());
      await expect(storage.users.get(`nobody-${uuidv7()}`)).resolves.toBeNull();
    } finally {
      await storage.close();
    }
  });
});
