// The transactional outbox on MongoDB, without a server: the adapter opened with events
// on runs the shared outbox contract and the whole ledger contract over the driver
// imitation (test/support/fake-mongo.ts), plus what only the imitation's call log can
// show: each event inserted in its change's own transaction, once however often the
// transaction is retried; no outbox call at all with events off; the change counter on
// documents stored before it; relays that never both get one event.
// The same contract against a real server: test/contract/mongodb.outbox.test.ts.
import { randomUUID } from 'node:crypto';
import type { Document } from 'mongodb';
import type { WalletEvent } from '../../src/core/events';
import type { Hold } from '../../src/core/hold';
import type { Ledger, Outbox } from '../../src/core/ports';
import type { Transaction } from '../../src/core/transaction';
import { balanceId, toHoldDoc, toLong, toTransactionDoc } from '../../src/adapters/mongodb/mongo-documents';
import { makeMongoLedger } from '../../src/adapters/mongodb/mongo-ledger';
import { makeMongoOutbox } from '../../src/adapters/mongodb/mongo-outbox';
import { makeMongoUserStore } from '../../src/adapters/mongodb/mongo-user-store';
import { uuidv7 } from '../../src/adapters/system/system-clock';
import { after, newHold, refundOf, tick, tx } from '../contract/contract-fixtures';
import { describeLedgerContract } from '../contract/ledger-contract';
import { describeOutboxContract } from '../contract/outbox-contract';
import { FakeMongo } from '../support/fake-mongo';

const open = (events: boolean) => {
  const db = new FakeMongo();
  return {
    db,
    ledger: makeMongoLedger(db.client, db.collections, undefined, { events }),
    users: makeMongoUserStore(db.collections),
    outbox: makeMongoOutbox(db.collections),
  };
};

describeOutboxContract('mongodb adapter over an in-memory imitation of the driver', async () => open(true));
describeLedgerContract('mongodb adapter over an in-memory imitation of the driver, events on', async () => open(true));

const FAR = '2999-01-01T00:00:00.000Z';
/** Everything waiting, claimed and acknowledged. */
const drain = async (outbox: Outbox): Promise<WalletEvent[]> => {
  const token = randomUUID();
  const events = await outbox.claimEvents({ limit: 1_000, now: FAR, leaseUntil: after(FAR, 60_000), token });
  await outbox.ackEvents(events.map((e) => e.id), token);
  return events;
};
const about = (events: WalletEvent[], id: string): Array<[string, number]> =>
  events
    .filter((e) => (e.resource.kind === 'hold' ? e.resource.hold.id : e.resource.transaction.id) === id)
    .map((e): [string, number] => [e.type, e.version]);

const withProfile = async (users: ReturnType<typeof open>['users']): Promise<string> => {
  const id = `u-${randomUUID()}`;
  await users.create({ id, email: `${id}@example.com`, name: 'Test', createdAt: tick() });
  return id;
};
const fund = async (ledger: Ledger, userId: string, amount: number): Promise<Transaction> => {
  const d = await ledger.createDeposit(tx({ type: 'deposit', userId, amount }));
  return ledger.settle({ id: d.id, status: 'completed', now: tick() });
};
const storedVersion = async (db: FakeMongo, coll: 'transactions' | 'holds', id: string): Promise<unknown> =>
  ((await db.colls[coll].findOne({ _id: id })) as Document | null)?.version;

describe('mongodb outbox: written in the change\'s own transaction', () => {
  it('the events are the last write of the transaction that commits; an attempt retried after a conflict writes them once', async () => {
    const { db, ledger, users, outbox } = open(true);
    const [a, b] = [await withProfile(users), await withProfile(users)];
    await fund(ledger, a, 100);
    await fund(ledger, b, 100);
    const created = tick();
    const h = await ledger.createHold(newHold({ userId: a, amount: 20, createdAt: created, updatedAt: created, expiresAt: after(created, 1) }));
    await drain(outbox);
    let staged = false;
    db.hook = async (rec) => {
      // The withdrawal has read in its snapshot: a transfer to its payer commits now, so its debit conflicts.
      if (staged || rec.txn === undefined || rec.coll !== 'holds' || rec.op !== 'find') return;
      staged = true;
      await ledger.transfer(tx({ type: 'transfer', userId: b, toUserId: a, amount: 5 }));
    };
    const [txns, aborts] = [db.txns, db.aborts];
    // The withdrawal first releases the expired hold (an event kept in the attempt), then conflicts.
    const w = await ledger.withdraw(tx({ type: 'withdrawal', userId: a, amount: 30, createdAt: after(created, 10) }));
    db.hook = undefined;

    expect(staged).toBe(true);
    const attempts = db.log.filter((r) => r.txn !== undefined && r.txn > txns && r.coll === 'transactions' && r.op === 'insertOne' && r.filter?._id === w.id);
    // The first attempt conflicted on the payer's balance, before its insert; the second committed.
    expect(db.aborts - aborts).toBe(1);
    expect(attempts).toHaveLength(1);
    const committed = db.opsOf(attempts[0]?.txn ?? -1);
    expect(committed[committed.length - 1]).toMatchObject({ coll: 'outbox', op: 'insertMany' });
    const events = await drain(outbox);
    expect(about(events, w.id)).toEqual([['transaction.completed', 1]]);
    expect(about(events, h.id)).toEqual([['hold.expired', 2]]);
    expect(events.find((e) => about([e], w.id).length > 0)?.resource).toEqual({ kind: 'transaction', transaction: await ledger.getTransaction(w.id) });
    expect(db.locks.size).toBe(0);
  });

  it('a change undone after its event was kept (a refusal later in the step) leaves no event', async () => {
    const { db, ledger, users, outbox } = open(true);
    const [a, b] = [await withProfile(users), await withProfile(users)];
    await fund(ledger, a, 100);
    const h = await ledger.createHold(newHold({ userId: a, toUserId: b, amount: 50 }));
    await drain(outbox);
    // The capture's hold is settled (its event kept), then the capture transaction's insert fails: all of it is undone.
    const taken = tx({ type: 'transfer', userId: a, toUserId: b, amount: 10 });
    await db.colls.transactions.insertOne(toTransactionDoc(taken));
    const now = tick();
    await expect(ledger.captureHold({ holdId: h.id, transaction: { ...taken, holdId: h.id, createdAt: now, updatedAt: now }, now })).rejects.toThrow();
    expect(await drain(outbox)).toEqual([]);
    expect((await ledger.getHold(h.id, now))?.status).toBe('held');
  });

  it('updateMetadata is one transaction with events on; with events off a single update, outside any transaction', async () => {
    for (const events of [true, false]) {
      const { db, ledger } = open(events);
      const d = await ledger.createDeposit(tx({ type: 'deposit', userId: `u-${randomUUID()}`, amount: 5 }));
      const from = db.log.length;
      await ledger.updateMetadata(d.id, { note: 'x' }, tick());
      const writes = db.log.slice(from).filter((r) => r.op !== 'find' && r.op !== 'findOne');
      expect(writes.map((r) => [r.coll, r.op, r.txn !== undefined])).toEqual(
        events ? [['transactions', 'findOneAndUpdate', true], ['outbox', 'insertMany', true]] : [['transactions', 'findOneAndUpdate', false]],
      );
    }
  });
});

describe('mongodb outbox: events off', () => {
  it('no outbox call at all, and the documents still count every change', async () => {
    const { db, ledger, users } = open(false);
    const [a, b] = [await withProfile(users), await withProfile(users)];
    const d = await fund(ledger, a, 1_000);
    await ledger.updateMetadata(d.id, { note: 'x' }, tick());
    const h = await ledger.createHold(newHold({ userId: a, toUserId: b, amount: 100 }));
    await ledger.voidHold({ holdId: h.id, now: tick() });
    const t = await ledger.transfer(tx({ type: 'transfer', userId: a, toUserId: b, amount: 100 }));
    await ledger.refund({ refund: refundOf(t, 40), now: tick() });
    const created = tick();
    const h2 = await ledger.createHold(newHold({ userId: a, amount: 10, createdAt: created, updatedAt: created, expiresAt: after(created, 1) }));
    await ledger.releaseExpiredHolds({ now: after(created, 5), limit: 10 });

    expect(db.log.filter((r) => r.coll === 'outbox')).toEqual([]);
    expect(await storedVersion(db, 'transactions', d.id)).toBe(3);
    expect(await storedVersion(db, 'holds', h.id)).toBe(2);
    expect(await storedVersion(db, 'transactions', t.id)).toBe(2);
    expect(await storedVersion(db, 'holds', h2.id)).toBe(2);
  });
});

describe('mongodb outbox: documents stored before versions', () => {
  it('count as version 1: their first change is announced as 2, the next as 3', async () => {
    const { db, ledger, users, outbox } = open(true);
    const a = await withProfile(users);
    const old = toTransactionDoc(tx({ type: 'deposit', userId: a, amount: 70 }));
    expect(old.version).toBeUndefined();
    await db.colls.transactions.insertOne(old);
    await db.colls.balances.insertOne({ _id: balanceId(a, 'USD'), userId: a, currency: 'USD', available: toLong(100), held: toLong(30) });
    const t = tick();
    const hold: Hold = { ...newHold({ userId: a, amount: 30, createdAt: t, updatedAt: t }), id: uuidv7() };
    await db.colls.holds.insertOne(toHoldDoc(hold));

    await ledger.settle({ id: old._id, status: 'completed', now: tick() });
    await ledger.updateMetadata(old._id, { note: 'x' }, tick());
    await ledger.voidHold({ holdId: hold.id, now: tick() });

    const events = await drain(outbox);
    expect(about(events, old._id)).toEqual([['transaction.completed', 2], ['transaction.updated', 3]]);
    expect(about(events, hold.id)).toEqual([['hold.voided', 2]]);
    expect(await storedVersion(db, 'transactions', old._id)).toBe(3);
    expect(await storedVersion(db, 'holds', hold.id)).toBe(2);
  });
});

describe('mongodb outbox: relays', () => {
  it('claims only through the unclaimed filter, and acknowledges only with its token', async () => {
    const { db, ledger, outbox } = open(true);
    await ledger.createDeposit(tx({ type: 'deposit', userId: `u-${randomUUID()}`, amount: 5 }));
    const token = randomUUID();
    const from = db.log.length;
    const [e] = await outbox.claimEvents({ limit: 10, now: FAR, leaseUntil: after(FAR, 1_000), token });
    await outbox.ackEvents([e?.id ?? ''], token);
    const writes = db.log.slice(from).filter((r) => r.op === 'updateMany' || r.op === 'deleteMany');
    expect(writes).toEqual([
      expect.objectContaining({
        op: 'updateMany',
        filter: { _id: { $in: [e?.id] }, $or: [{ leaseUntil: null }, { leaseUntil: { $lte: new Date(FAR) } }] },
        update: { $set: { leaseUntil: new Date(after(FAR, 1_000)), token } },
      }),
      expect.objectContaining({ op: 'deleteMany', filter: { _id: { $in: [e?.id] }, token } }),
    ]);
  });

  it('a relay whose candidates another relay claimed first gets none of them', async () => {
    const { db, ledger, outbox } = open(true);
    const u = `u-${randomUUID()}`;
    for (let i = 0; i < 3; i++) await ledger.createDeposit(tx({ type: 'deposit', userId: u, amount: i + 1 }));
    let other: WalletEvent[] | undefined;
    db.hook = async (rec) => {
      // The first relay has found its candidates: the second claims them all before the first writes.
      if (other || rec.coll !== 'outbox' || rec.op !== 'find') return;
      other = [];
      other = await outbox.claimEvents({ limit: 10, now: FAR, leaseUntil: after(FAR, 1_000), token: randomUUID() });
    };
    const mine = await outbox.claimEvents({ limit: 10, now: FAR, leaseUntil: after(FAR, 1_000), token: randomUUID() });
    db.hook = undefined;

    expect(other).toHaveLength(3);
    expect(mine).toEqual([]);
    expect(await outbox.backlog()).toEqual({ count: 3, oldestAt: other?.[0]?.occurredAt });
  });

  it('a claim of nothing reads nothing', async () => {
    const { db, outbox } = open(true);
    const from = db.log.length;
    expect(await outbox.claimEvents({ limit: 0, now: FAR, leaseUntil: after(FAR, 1), token: 't' })).toEqual([]);
    await outbox.ackEvents([], 't');
    expect(db.log.length).toBe(from);
  });
});
