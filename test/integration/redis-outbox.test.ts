// Redis-specific behaviour of the outbox beyond the shared contract: with events off no
// outbox key is written while versions still count; events keep integers past 14
// digits exact (Lua's cjson would print them as 9.007199254741e+15); a movement with
// its events is still one script call.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { makeRedisStorage, openRedisStorage } from '../../src/adapters/redis';
import { closeRedisClient, createRedisClient } from '../../src/adapters/redis/redis-client';
import { redisKeys } from '../../src/adapters/redis/redis-keys';
import type { Storage } from '../../src/adapters/storage';
import type { WalletEvent } from '../../src/core/events';
import { MAX_BALANCE } from '../../src/core/money';
import type { Outbox } from '../../src/core/ports';
import { after, newHold, scope, storeHelpers, tick, times, tx } from '../contract/contract-fixtures';
import { deleteKeysWithPrefix, redisTestConfig } from '../support/redis-test-env';

const FAR = '2999-01-01T00:00:00.000Z';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Claims and acknowledges everything waiting. */
const drain = async (outbox: Outbox): Promise<WalletEvent[]> => {
  const token = randomUUID();
  const events = await outbox.claimEvents({ limit: 1_000, now: FAR, leaseUntil: after(FAR, 60_000), token });
  await outbox.ackEvents(events.map((e) => e.id), token);
  return events;
};

describe('redis outbox specifics', () => {
  const on = redisTestConfig({ events: true });
  const off = redisTestConfig({ events: false });
  const offKeys = redisKeys(off.redis.keyPrefix);
  let withEvents: Storage;
  let without: Storage;
  let raw: Redis;
  beforeAll(async () => {
    [withEvents, without] = await Promise.all([openRedisStorage(on.redis), openRedisStorage(off.redis)]);
    raw = new Redis({ host: on.redis.host, port: on.redis.port });
  });
  afterAll(async () => {
    raw.disconnect();
    await Promise.all([deleteKeysWithPrefix(on), deleteKeysWithPrefix(off)]);
    await Promise.all([withEvents.close(), without.close()]);
  });
  const outbox = (): Outbox => {
    if (!withEvents.outbox) throw new Error('no outbox with events on');
    return withEvents.outbox;
  };

  it('with events off: no outbox and no outbox key, but every change still counts in the version', async () => {
    expect(without.outbox).toBeUndefined();
    const { newUser, fund } = storeHelpers(() => without);
    const [a, b] = [await newUser(), await newUser()];
    const d = await fund(a, 1_000);
    await without.ledger.setPaymentRef(d.id, 'pay_1');
    await without.ledger.updateMetadata(d.id, { note: 'x' }, tick());
    const t = await without.ledger.transfer(tx({ type: 'transfer', userId: a, toUserId: b, amount: 10 }));
    const h = await without.ledger.createHold(newHold({ userId: a, amount: 10 }));
    await without.ledger.voidHold({ holdId: h.id, now: tick() });
    await without.ledger.releaseExpiredHolds({ now: FAR, limit: 10 });

    // pending, completed, metadata: 3 (the payment ref is no change of the resource).
    expect(await raw.get(offKeys.transaction(d.id))).toMatch(/,"version":3}$/);
    expect(await raw.get(offKeys.transaction(t.id))).toMatch(/,"version":1}$/);
    expect(await raw.hget(offKeys.hold(h.id), 'version')).toBe('2');
    expect(await without.ledger.getTransaction(d.id)).not.toHaveProperty('version');
    expect(await without.ledger.getHold(h.id, tick())).not.toHaveProperty('version');
    expect(await raw.exists(offKeys.outboxSequence(), offKeys.outbox(), offKeys.outboxEvents(), offKeys.outboxLeases())).toBe(0);
  });

  it('carries amounts past 14 digits exactly, strings escaped, and the resource as the ledger returns it', async () => {
    const { newUser } = storeHelpers(() => withEvents);
    const [a, b] = [await newUser(), await newUser()];
    await raw.hset(redisKeys(on.redis.keyPrefix).balances(a), 'USD', String(MAX_BALANCE));
    await drain(outbox());
    const metadata = { text: 'quote " slash / \\ é 🙂', n: '12345678901234567' };
    const h = await withEvents.ledger.createHold(newHold({ userId: a, toUserId: b, amount: MAX_BALANCE - 1, metadata }));
    const t = await withEvents.ledger.withdraw(tx({ type: 'withdrawal', userId: a, amount: 1, metadata }));
    const events = await drain(outbox());
    const hold = events.find((e) => e.resource.kind === 'hold');
    const withdrawal = events.find((e) => e.resource.kind === 'transaction');
    expect(hold?.resource).toEqual({ kind: 'hold', hold: h });
    expect(hold?.resource).toEqual({ kind: 'hold', hold: await withEvents.ledger.getHold(h.id, tick()) });
    expect(withdrawal?.resource).toEqual({ kind: 'transaction', transaction: t });
    expect(events).toHaveLength(2);
  });

  it('gives every event of one script its own UUID: a debit releasing two expired holds writes three', async () => {
    const { newUser, fund } = storeHelpers(() => withEvents);
    const a = await newUser();
    await fund(a, 100);
    const created = tick();
    const holds = [
      await withEvents.ledger.createHold(newHold({ userId: a, amount: 10, createdAt: created, updatedAt: created, expiresAt: after(created, 1) })),
      await withEvents.ledger.createHold(newHold({ userId: a, amount: 10, createdAt: created, updatedAt: created, expiresAt: after(created, 2) })),
    ];
    await drain(outbox());
    const w = await withEvents.ledger.withdraw(tx({ type: 'withdrawal', userId: a, amount: 100, createdAt: after(created, 10) }));
    const events = await drain(outbox());
    expect(events.map((e) => [e.type, e.version, e.occurredAt])).toEqual([
      ['hold.expired', 2, holds[0]?.expiresAt], ['hold.expired', 2, holds[1]?.expiresAt], ['transaction.completed', 1, w.createdAt],
    ]);
    for (const e of events) expect(e.id).toMatch(UUID);
    expect(new Set(events.map((e) => e.id)).size).toBe(3);
  });

  it('writes a keyed movement and its event in one script call', async () => {
    const client = createRedisClient(on.redis);
    const sent: string[] = [];
    const send = client.sendCommand.bind(client);
    client.sendCommand = ((command: { name: string }, ...rest: unknown[]) => {
      sent.push(command.name);
      return (send as (...args: unknown[]) => unknown)(command, ...rest);
    }) as typeof client.sendCommand;
    const counted = makeRedisStorage(client, on.redis.keyPrefix, () => closeRedisClient(client), { events: true });
    try {
      const { newUser, fund } = storeHelpers(() => counted);
      const [a, b] = [await newUser(), await newUser()];
      await fund(a, 10);
      // Loads the script into the server's cache, so the counted call needs no EVAL fallback.
      await counted.ledger.transfer(tx({ type: 'transfer', userId: a, toUserId: b, amount: 1 }));
      await drain(outbox());
      sent.length = 0;
      const t = await counted.ledger.transfer(tx({ type: 'transfer', userId: a, toUserId: b, amount: 1 }), scope(a), times());
      expect(sent).toEqual(['evalsha']);
      expect((await drain(outbox())).map((e) => [e.type, e.resource])).toEqual([['transaction.completed', { kind: 'transaction', transaction: t }]]);
    } finally {
      await counted.close();
    }
  });
});
