// The outbox of the PostgreSQL/PGlite ledger, beyond the shared contract: each event's
// resource is exactly what the ledger returned for that change (the JSON is built in
// SQL), a deposit that fails on the balance limit is one `failed` event, versions
// count with events off too (and nothing reaches the outbox), a movement rolled back
// on its idempotency key writes nothing, and events cost no extra statement.
import { randomUUID } from 'node:crypto';
import { makePostgresLedger } from '../../src/adapters/postgres/postgres-ledger';
import { makePostgresOutbox } from '../../src/adapters/postgres/postgres-outbox';
import { makePostgresUserStore } from '../../src/adapters/postgres/postgres-user-store';
import type { SqlExecutor, SqlSession } from '../../src/adapters/postgres/sql-executor';
import { IdempotencyKeyInUse } from '../../src/core/errors';
import type { EventResource, WalletEvent } from '../../src/core/events';
import { MAX_BALANCE } from '../../src/core/money';
import type { Ledger, Outbox } from '../../src/core/ports';
import { after, captureOf, newHold, refundOf, refusal, scope, storeHelpers, tick, times, tx } from './contract-fixtures';

export interface SqlOutboxFixture {
  /** A migrated database of the suite's own. */
  db: SqlExecutor;
  close: () => Promise<void>;
}

/** `db`, counting the statements sent (alone or inside transactions). */
const counting = (db: SqlExecutor): { db: SqlExecutor; count: () => number } => {
  let n = 0;
  const session = (s: SqlSession): SqlSession => ({
    query: (sql, params) => {
      n++;
      return s.query(sql, params);
    },
    exec: (sql) => s.exec(sql),
  });
  return {
    db: {
      query: (sql, params, options) => {
        n++;
        return db.query(sql, params, options);
      },
      transaction: (fn, options) => db.transaction((s, probed) => fn(session(s), probed), options),
      close: () => db.close(),
    },
    count: () => n,
  };
};

const idOf = (r: EventResource): string => (r.kind === 'hold' ? r.hold.id : r.transaction.id);

export const describeSqlOutboxCases = (name: string, makeFixture: () => Promise<SqlOutboxFixture>): void => {
  describe(`outbox on SQL: ${name}`, () => {
    let f: SqlOutboxFixture;
    let ledger: Ledger;
    let outbox: Outbox;
    beforeAll(async () => {
      f = await makeFixture();
      ledger = makePostgresLedger(f.db, { events: true });
      outbox = makePostgresOutbox(f.db);
    });
    afterAll(async () => {
      await f?.close();
    });
    const { newUser, fund } = storeHelpers(() => ({ ledger, users: makePostgresUserStore(f.db) }));

    const drain = async (): Promise<WalletEvent[]> => {
      const all: WalletEvent[] = [];
      for (;;) {
        const token = randomUUID();
        const now = '2999-01-01T00:00:00.000Z';
        const batch = await outbox.claimEvents({ limit: 5, now, leaseUntil: after(now, 60_000), token });
        if (batch.length === 0) return all;
        all.push(...batch);
        await outbox.ackEvents(batch.map((e) => e.id), token);
      }
    };
    const versionOf = async (table: 'transactions' | 'holds', id: string): Promise<number> => {
      const [r] = await f.db.query<{ version: number }>(`SELECT version FROM ${table} WHERE id = $1::uuid`, [id]);
      return Number(r?.version);
    };
    beforeEach(async () => {
      await drain();
    });

    it('every event carries exactly what the ledger returned for that change', async () => {
      const [a, b] = [await newUser(), await newUser()];
      /** What each change returned, by resource id and version. */
      const expected = new Map<string, EventResource>();
      const saw = (version: number, resource: EventResource): void => void expected.set(`${idOf(resource)}@${version}`, resource);
      const sawTx = async (id: string, version: number): Promise<void> => {
        const t = await ledger.getTransaction(id);
        if (t) saw(version, { kind: 'transaction', transaction: t });
      };

      const d = await ledger.createDeposit(tx({ type: 'deposit', userId: a, amount: 5_000, metadata: { order: 'o-1' } }));
      saw(1, { kind: 'transaction', transaction: d });
      // Not a change of its own (as on every store): the next event carries it.
      await ledger.setPaymentRef(d.id, 'pay-1');
      saw(2, { kind: 'transaction', transaction: await ledger.settle({ id: d.id, status: 'completed', now: tick() }) });
      const s = scope(a);
      const w = await ledger.withdraw(tx({ type: 'withdrawal', userId: a, amount: 100 }), s, times());
      saw(1, { kind: 'transaction', transaction: w });
      const t = await ledger.transfer(tx({ type: 'transfer', userId: a, toUserId: b, amount: 700, metadata: { k: 'v' } }));
      saw(1, { kind: 'transaction', transaction: t });
      saw(2, { kind: 'transaction', transaction: await ledger.updateMetadata(t.id, { k: 'w', note: 'é' }, tick()) });

      const h1 = await ledger.createHold(newHold({ userId: a, toUserId: b, amount: 300, metadata: { cart: 'c' } }));
      saw(1, { kind: 'hold', hold: h1 });
      const now = tick();
      const captured = await ledger.captureHold({ holdId: h1.id, transaction: captureOf(h1, 120, now), now });
      saw(2, { kind: 'hold', hold: captured.hold });
      saw(1, { kind: 'transaction', transaction: captured.transaction });
      const h2 = await ledger.createHold(newHold({ userId: a, amount: 50 }));
      saw(1, { kind: 'hold', hold: h2 });
      saw(2, { kind: 'hold', hold: await ledger.voidHold({ holdId: h2.id, now: tick() }) });

      const r1 = await ledger.refund({ refund: refundOf(t, 200), now: tick() });
      saw(1, { kind: 'transaction', transaction: r1 });
      await sawTx(t.id, 3);
      const r2 = await ledger.refund({ refund: refundOf(d, 400), now: tick() });
      saw(1, { kind: 'transaction', transaction: r2 });
      await sawTx(d.id, 3);
      saw(2, { kind: 'transaction', transaction: await ledger.settle({ id: r2.id, status: 'failed', now: tick() }) });
      await sawTx(d.id, 4);

      // Expired by the payer's next debit, and by the scheduled release.
      const created = tick();
      const h3 = await ledger.createHold(newHold({ userId: a, amount: 10, createdAt: created, updatedAt: created, expiresAt: after(created, 1) }));
      const h4 = await ledger.createHold(newHold({ userId: b, amount: 10, createdAt: created, updatedAt: created, expiresAt: after(created, 1) }));
      saw(1, { kind: 'hold', hold: h3 });
      saw(1, { kind: 'hold', hold: h4 });
      saw(1, { kind: 'transaction', transaction: await ledger.withdraw(tx({ type: 'withdrawal', userId: a, amount: 1, createdAt: after(created, 5) })) });
      await ledger.releaseExpiredHolds({ now: after(created, 10), limit: 100 });
      for (const h of [h3, h4]) {
        const stored = await ledger.getHold(h.id, after(created, 10));
        if (stored) saw(2, { kind: 'hold', hold: stored });
      }

      const events = await drain();
      const mine = events.filter((e) => expected.has(`${idOf(e.resource)}@${e.version}`));
      expect(mine).toHaveLength(expected.size);
      for (const e of mine) expect(e.resource).toEqual(expected.get(`${idOf(e.resource)}@${e.version}`));
      expect(mine.find((e) => idOf(e.resource) === d.id && e.version === 2)?.resource).toMatchObject({ transaction: { paymentRef: 'pay-1' } });
    });

    it('a deposit the balance cannot hold is one `transaction.failed` event, not a completion', async () => {
      const a = await newUser();
      await fund(a, MAX_BALANCE);
      await drain();
      const d = await ledger.createDeposit(tx({ type: 'deposit', userId: a, amount: 1 }));
      const failed = await ledger.settle({ id: d.id, status: 'completed', now: tick() });
      expect(failed.status).toBe('failed');
      const events = (await drain()).filter((e) => idOf(e.resource) === d.id);
      expect(events.map((e) => [e.type, e.version])).toEqual([['transaction.pending', 1], ['transaction.failed', 2]]);
      expect(events[1]?.resource).toEqual({ kind: 'transaction', transaction: failed });
      expect(await versionOf('transactions', d.id)).toBe(2);
    });

    it('with events off every change still counts its version, and nothing reaches the outbox', async () => {
      const off = makePostgresLedger(f.db);
      const a = await newUser();
      const d = await off.createDeposit(tx({ type: 'deposit', userId: a, amount: 500 }));
      await off.settle({ id: d.id, status: 'completed', now: tick() });
      await off.updateMetadata(d.id, { note: 'x' }, tick());
      const h = await off.createHold(newHold({ userId: a, amount: 100 }));
      await off.voidHold({ holdId: h.id, now: tick() });
      expect(await versionOf('transactions', d.id)).toBe(3);
      expect(await versionOf('holds', h.id)).toBe(2);
      expect(await outbox.backlog()).toEqual({ count: 0 });
      // The next change with events on carries the count on.
      await ledger.updateMetadata(d.id, { note: 'y' }, tick());
      expect((await drain()).map((e) => [e.type, e.version])).toEqual([['transaction.updated', 4]]);
    });

    it('a movement rolled back on its idempotency key writes no event and counts no version', async () => {
      const [a, b] = [await newUser(), await newUser()];
      await fund(a, 1_000);
      const h = await ledger.createHold(newHold({ userId: a, amount: 100 }));
      await drain();
      const taken = scope(a);
      await ledger.claimIdempotency(taken, times());
      // Another request's token; then the fast path on a key that already has a record.
      const t1 = tx({ type: 'transfer', userId: a, toUserId: b, amount: 10 });
      expect(await refusal(ledger.transfer(t1, { ...taken, token: randomUUID() }))).toBeInstanceOf(IdempotencyKeyInUse);
      const t2 = tx({ type: 'withdrawal', userId: a, amount: 10 });
      expect(await refusal(ledger.withdraw(t2, taken, times()))).toBeInstanceOf(IdempotencyKeyInUse);
      expect(await refusal(ledger.voidHold({ holdId: h.id, now: tick() }, { ...taken, token: randomUUID() }))).toBeInstanceOf(IdempotencyKeyInUse);
      expect(await drain()).toEqual([]);
      expect(await ledger.getTransaction(t1.id)).toBeNull();
      expect(await versionOf('holds', h.id)).toBe(1);
    });

    it('claims oldest first past ten entries (seq compared as numbers)', async () => {
      const a = await newUser();
      const ids: string[] = [];
      for (let i = 0; i < 12; i++) ids.push((await ledger.createDeposit(tx({ type: 'deposit', userId: a, amount: i + 1 }))).id);
      const now = '2999-01-01T00:00:00.000Z';
      const batch = await outbox.claimEvents({ limit: 100, now, leaseUntil: after(now, 1_000), token: randomUUID() });
      expect(batch.map((e) => idOf(e.resource))).toEqual(ids);
      // Not claimed with that token: nothing removed.
      await outbox.ackEvents([...batch.map((e) => e.id), 'not-a-uuid'], randomUUID());
      expect((await outbox.backlog()).count).toBe(12);
    });

    it('events cost no extra statement: every step sends as many with events on as off', async () => {
      const run = async (events: boolean): Promise<number[]> => {
        const c = counting(f.db);
        const l = makePostgresLedger(c.db, { events });
        const { newUser: user, fund: give } = storeHelpers(() => ({ ledger: l, users: makePostgresUserStore(f.db) }));
        const [a, b] = [await user(), await user()];
        const counts: number[] = [];
        const step = async (work: () => Promise<unknown>): Promise<void> => {
          const before = c.count();
          await work();
          counts.push(c.count() - before);
        };
        let d = tx({ type: 'deposit', userId: a, amount: 5_000 });
        await step(() => l.createDeposit(d));
        await step(async () => (d = await l.settle({ id: d.id, status: 'completed', now: tick() })));
        await step(() => l.transfer(tx({ type: 'transfer', userId: a, toUserId: b, amount: 10 }), scope(a), times()));
        await step(() => l.withdraw(tx({ type: 'withdrawal', userId: a, amount: 10 }), scope(a), times()));
        const created = tick();
        const h = newHold({ userId: a, toUserId: b, amount: 100 });
        await step(() => l.createHold(h));
        await step(() => l.createHold(newHold({ userId: a, amount: 5, createdAt: created, updatedAt: created, expiresAt: after(created, 1) })));
        const now = tick();
        await step(() => l.captureHold({ holdId: h.id, transaction: captureOf(h, 50, now), now }));
        await step(() => l.refund({ refund: refundOf(d, 100), now: tick() }));
        await step(() => l.updateMetadata(d.id, { n: '1' }, tick()));
        await step(() => l.releaseExpiredHolds({ now: after(created, 10), limit: 10 }));
        await give(b, 1);
        return counts;
      };
      expect(await run(true)).toEqual(await run(false));
    });
  });
};
