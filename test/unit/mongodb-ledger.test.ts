// The MongoDB Ledger without a server: the adapter runs over the in-memory imitation of
// the driver in test/support/fake-mongo.ts (MongoDB's transaction semantics as
// documented). The real thing stays test/contract/mongodb.contract.test.ts (needs
// MONGODB_URI); this runs the same shared contract, plus the races the contract cannot stage.
import { randomUUID } from 'node:crypto';
import { Long, MongoServerError, type Document } from 'mongodb';
import {
  BalanceOverflow, HoldExpired, IdempotencyKeyInUse, InsufficientFunds, InvalidStateTransition, RefundExceedsAmount, ServiceUnavailable,
} from '../../src/core/errors';
import type { Hold } from '../../src/core/hold';
import type { ClaimTimes, IdempotencyScope, Ledger } from '../../src/core/ports';
import type { Transaction } from '../../src/core/transaction';
import { balanceId, idempotencyId, toLong, toTransactionDoc } from '../../src/adapters/mongodb/mongo-documents';
import { makeMongoLedger } from '../../src/adapters/mongodb/mongo-ledger';
import { makeMongoUserStore } from '../../src/adapters/mongodb/mongo-user-store';
import { uuidv7 } from '../../src/adapters/system/system-clock';
import { describeLedgerContract } from '../contract/ledger-contract';
import { FakeMongo } from '../support/fake-mongo';

const makeLedger = (): { db: FakeMongo; ledger: Ledger } => {
  const db = new FakeMongo();
  return { db, ledger: makeMongoLedger(db.client, db.collections) };
};

/** Withdrawals and transfers check the payer's profile inside their transaction. */
const withProfile = async (db: FakeMongo, id: string): Promise<string> => {
  await makeMongoUserStore(db.collections).create({ id, email: `${id}@example.com`, name: 'Test', createdAt: new Date().toISOString() });
  return id;
};

// ---------------------------------------------------------------- the shared contract

describeLedgerContract('mongodb adapter over an in-memory imitation of the driver', async () => {
  const db = new FakeMongo();
  return { ledger: makeMongoLedger(db.client, db.collections), users: makeMongoUserStore(db.collections) };
});

// ---------------------------------------------------------------- the holder check, call by call

let clockMs = Date.parse('2031-01-01T00:00:00.000Z');
const now = (): string => new Date(++clockMs).toISOString();
const at = (start: string, ms: number): string => new Date(Date.parse(start) + ms).toISOString();
const times = (t = now(), leaseMs = 60_000): ClaimTimes => ({ now: t, leaseUntil: at(t, leaseMs), expiresAt: at(t, 86_400_000) });
const scope = (callerId: string): IdempotencyScope => ({ callerId, key: `key-${randomUUID()}`, fingerprint: 'fp', token: randomUUID() });
const retryOf = (s: IdempotencyScope): IdempotencyScope => ({ ...s, token: randomUUID() });
const tx = (over: Partial<Transaction> & Pick<Transaction, 'type' | 'userId'>): Transaction => {
  const t = now();
  return { id: uuidv7(), status: over.type === 'deposit' ? 'pending' : 'completed', amount: 100, currency: 'USD', metadata: {}, createdAt: t, updatedAt: t, ...over };
};
const holdOf = (over: Partial<Hold> & Pick<Hold, 'userId'>, expiresInMs = 60_000): Hold => {
  const t = now();
  return {
    id: uuidv7(), amount: 100, currency: 'USD', capturedAmount: 0, status: 'held', expiresAt: at(t, expiresInMs), metadata: {},
    createdAt: t, updatedAt: t, ...over,
  };
};
const fund = async (ledger: Ledger, userId: string, amount: number): Promise<void> => {
  const d = await ledger.createDeposit(tx({ type: 'deposit', userId, amount }));
  await ledger.settle({ id: d.id, status: 'completed', now: now() });
};
const available = async (ledger: Ledger, userId: string): Promise<number | undefined> =>
  (await ledger.getBalances(userId)).find((b) => b.currency === 'USD')?.available;
/** A claim by `first` whose lease has run out, taken over by a retry. */
const takenOver = async (ledger: Ledger, u: string): Promise<{ first: IdempotencyScope; second: IdempotencyScope; later: string }> => {
  const first = scope(u);
  const start = now();
  await ledger.claimIdempotency(first, times(start, 1_000));
  const second = retryOf(first);
  const later = at(start, 5_000);
  expect(await ledger.claimIdempotency(second, times(later))).toMatchObject({ kind: 'claimed' });
  return { first, second, later };
};
const heldFilter = (s: IdempotencyScope) => ({ _id: idempotencyId(s), state: 'in_flight', token: s.token });

describe('mongodb ledger: only the request holding the key writes for it', () => {
  it.each([
    ['createDeposit', (l: Ledger, s: IdempotencyScope, u: string, _v: string) => l.createDeposit(tx({ type: 'deposit', userId: u }), s)],
    ['withdraw', (l: Ledger, s: IdempotencyScope, u: string, _v: string) => l.withdraw(tx({ type: 'withdrawal', userId: u, amount: 10 }), s)],
    ['transfer', (l: Ledger, s: IdempotencyScope, u: string, v: string) => l.transfer(tx({ type: 'transfer', userId: u, toUserId: v, amount: 10 }), s)],
    ['createHold', (l: Ledger, s: IdempotencyScope, u: string, _v: string) => l.createHold(holdOf({ userId: u, amount: 10 }), s)],
    ['captureHold', (l: Ledger, s: IdempotencyScope, u: string, _v: string) =>
      l.captureHold({ holdId: uuidv7(), transaction: tx({ type: 'withdrawal', userId: u, amount: 10 }), now: now() }, s)],
    ['refund', (l: Ledger, s: IdempotencyScope, u: string, _v: string) =>
      l.refund({ refund: tx({ type: 'refund', userId: u, amount: 10, refundOf: uuidv7() }), now: now() }, s)],
  ])('%s for a taken-over claim: checks the holder first, in the transaction, then aborts it untried again with no effect', async (_name, run) => {
    const { db, ledger } = makeLedger();
    const [u, v] = [`u-${randomUUID()}`, `v-${randomUUID()}`];
    await fund(ledger, u, 100);
    const { first } = await takenOver(ledger, u);
    const [commits, aborts, txns] = [db.commits, db.aborts, db.txns];

    await expect(run(ledger, first, u, v)).rejects.toBeInstanceOf(IdempotencyKeyInUse);

    expect([db.txns - txns, db.commits - commits, db.aborts - aborts]).toEqual([1, 0, 1]);
    const ops = db.opsOf(db.txns);
    expect(ops).toHaveLength(1);
    expect(ops[0]).toMatchObject({ coll: 'idempotency', op: 'updateOne', filter: heldFilter(first) });
    expect(db.locks.size).toBe(0);
    expect(await available(ledger, u)).toBe(100);
    expect(await available(ledger, v)).toBeUndefined();
  });

  it('settle for a taken-over claim: checks the holder first and credits nothing', async () => {
    const { db, ledger } = makeLedger();
    const u = `u-${randomUUID()}`;
    const first = scope(u);
    const start = now();
    await ledger.claimIdempotency(first, times(start, 1_000));
    const d = await ledger.createDeposit(tx({ type: 'deposit', userId: u, amount: 70 }), first);
    expect(await ledger.claimIdempotency(retryOf(first), times(at(start, 5_000)))).toEqual({ kind: 'claimed', transactionId: d.id });

    await expect(ledger.settle({ id: d.id, status: 'completed', now: now() }, first)).rejects.toBeInstanceOf(IdempotencyKeyInUse);
    const ops = db.opsOf(db.txns);
    expect(ops).toEqual([expect.objectContaining({ coll: 'idempotency', op: 'findOne', filter: heldFilter(first) })]);
    expect((await ledger.getTransaction(d.id))?.status).toBe('pending');
    expect(await available(ledger, u)).toBe(0);
  });

  it('voidHold for a taken-over claim: checks the holder first and returns nothing to available', async () => {
    const { db, ledger } = makeLedger();
    const u = await withProfile(db, `u-${randomUUID()}`);
    await fund(ledger, u, 100);
    const h = await ledger.createHold(holdOf({ userId: u, amount: 40 }));
    const { first } = await takenOver(ledger, u);

    await expect(ledger.voidHold({ holdId: h.id, now: now() }, first)).rejects.toBeInstanceOf(IdempotencyKeyInUse);
    expect(db.opsOf(db.txns)).toEqual([expect.objectContaining({ coll: 'idempotency', op: 'findOne', filter: heldFilter(first) })]);
    expect((await ledger.getHold(h.id, now()))?.status).toBe('held');
    expect(await ledger.getBalances(u)).toEqual([{ currency: 'USD', available: 60, held: 40 }]);
  });

  it('the refusal comes before NotFound: a stale request learns nothing else', async () => {
    const { ledger } = makeLedger();
    const { first } = await takenOver(ledger, `u-${randomUUID()}`);
    await expect(ledger.settle({ id: uuidv7(), status: 'completed', now: now() }, first)).rejects.toBeInstanceOf(IdempotencyKeyInUse);
  });

  it('refuses a settle whose claim is taken over after its check: the final conditional write conflicts, and the retry is refused', async () => {
    const { db, ledger } = makeLedger();
    const u = `u-${randomUUID()}`;
    const first = scope(u);
    const start = now();
    await ledger.claimIdempotency(first, times(start, 1_000));
    const d = await ledger.createDeposit(tx({ type: 'deposit', userId: u, amount: 70 }), first);
    const second = retryOf(first);

    let staged = false;
    db.hook = async (rec) => {
      // Right after the settle's check, before its effects: the retry takes the key over (and commits).
      if (staged || rec.txn === undefined || rec.coll !== 'idempotency' || rec.op !== 'findOne') return;
      staged = true;
      expect(await ledger.claimIdempotency(second, times(at(start, 5_000)))).toEqual({ kind: 'claimed', transactionId: d.id });
    };
    const txns = db.txns;
    await expect(ledger.settle({ id: d.id, status: 'completed', now: now() }, first)).rejects.toBeInstanceOf(IdempotencyKeyInUse);
    db.hook = undefined;

    expect(staged).toBe(true);
    expect(db.txns - txns).toBe(2); // the conflicting attempt, then the refused one
    expect((await ledger.getTransaction(d.id))?.status).toBe('pending');
    expect(await available(ledger, u)).toBe(0);
    await ledger.settle({ id: d.id, status: 'completed', now: now() }, second);
    expect(await available(ledger, u)).toBe(70);
  });

  it('a take-over attempted while a withdrawal holds the key waits for it, then replays its outcome', async () => {
    const { db, ledger } = makeLedger();
    const u = await withProfile(db, `u-${randomUUID()}`);
    await fund(ledger, u, 100);
    const first = scope(u);
    const start = now();
    await ledger.claimIdempotency(first, times(start, 1_000));

    let retry: Promise<unknown> | undefined;
    db.hook = (rec) => {
      if (retry || rec.txn === undefined || rec.coll !== 'idempotency') return;
      retry = ledger.claimIdempotency(retryOf(first), times(at(start, 5_000)));
    };
    const w = await ledger.withdraw(tx({ type: 'withdrawal', userId: u, amount: 30 }), first);
    db.hook = undefined;

    expect(await retry).toEqual({ kind: 'replay', outcome: { kind: 'transaction', transaction: w } });
    expect(await available(ledger, u)).toBe(70);
  });

  it('a refused debit leaves the outcome written first unrecorded', async () => {
    const { db, ledger } = makeLedger();
    const u = await withProfile(db, `u-${randomUUID()}`);
    const s = scope(u);
    await ledger.claimIdempotency(s, times());
    await expect(ledger.withdraw(tx({ type: 'withdrawal', userId: u, amount: 1 }), s)).rejects.toBeInstanceOf(InsufficientFunds);
    expect(await ledger.claimIdempotency(retryOf(s), times())).toEqual({ kind: 'in_use' });
    // Still held by `s`, which can go on to record what happened.
    const outcome = { kind: 'error' as const, error: new InsufficientFunds().snapshot() };
    await ledger.completeIdempotency(s, outcome);
    expect(await ledger.claimIdempotency(retryOf(s), times())).toEqual({ kind: 'replay', outcome });
  });

  it('completeIdempotency for a key not held answers IdempotencyKeyInUse, not ServiceUnavailable, and writes nothing', async () => {
    const { db, ledger } = makeLedger();
    const { first, second, later } = await takenOver(ledger, `u-${randomUUID()}`);
    const outcome = { kind: 'error' as const, error: { code: 'not_found' as const, message: 'x' } };
    const refused = ledger.completeIdempotency(first, outcome);
    await expect(refused).rejects.toBeInstanceOf(IdempotencyKeyInUse);
    await expect(refused).rejects.not.toBeInstanceOf(ServiceUnavailable);
    expect(db.log[db.log.length - 1]).toMatchObject({ coll: 'idempotency', op: 'updateOne', filter: heldFilter(first) });
    expect(await ledger.claimIdempotency(retryOf(first), times(later))).toEqual({ kind: 'in_use' });
    await expect(ledger.completeIdempotency(scope('nobody'), outcome)).rejects.toBeInstanceOf(IdempotencyKeyInUse);
    await ledger.completeIdempotency(second, outcome);
    expect(await ledger.claimIdempotency(retryOf(first), times(later))).toEqual({ kind: 'replay', outcome });
  });

  it('releaseIdempotency frees only the caller\'s own claim', async () => {
    const { ledger } = makeLedger();
    const { first, second, later } = await takenOver(ledger, `u-${randomUUID()}`);
    await ledger.releaseIdempotency(first);
    expect(await ledger.claimIdempotency(retryOf(first), times(later))).toEqual({ kind: 'in_use' });
    await ledger.releaseIdempotency(second);
    expect(await ledger.claimIdempotency(retryOf(first), times(later))).toEqual({ kind: 'claimed' });
  });

  it('stores the token with a new, revived or taken-over claim', async () => {
    const { db, ledger } = makeLedger();
    const tokenOf = async (s: IdempotencyScope): Promise<unknown> => (await db.colls.idempotency.findOne({ _id: idempotencyId(s) }))?.token;
    const s = scope(`u-${randomUUID()}`);
    const start = now();
    await ledger.claimIdempotency(s, { now: start, leaseUntil: at(start, 1_000), expiresAt: at(start, 2_000) });
    expect(await tokenOf(s)).toBe(s.token);
    const taker = retryOf(s);
    await ledger.claimIdempotency(taker, times(at(start, 1_500)));
    expect(await tokenOf(s)).toBe(taker.token);
    await ledger.releaseIdempotency(taker);
    const reopener = retryOf(s);
    await ledger.claimIdempotency(reopener, times(at(start, 1_600)));
    expect(await tokenOf(s)).toBe(reopener.token);
    const reviver = { ...retryOf(s), fingerprint: 'other' };
    await ledger.claimIdempotency(reviver, times(at(start, 3_000)));
    expect(await tokenOf(s)).toBe(reviver.token);
  });
});

describe('mongodb ledger: the server-side balance bounds', () => {
  it('a credit the collection validator refuses (code 121) is BalanceOverflow, and the transfer moves nothing', async () => {
    const { db, ledger } = makeLedger();
    const [a, b] = [await withProfile(db, `u-${randomUUID()}`), await withProfile(db, `u-${randomUUID()}`)];
    await fund(ledger, a, 100);
    // The imitation runs no validators: refuse the recipient's $inc the way a real server does.
    db.hook = (rec) => {
      if (rec.txn !== undefined && rec.coll === 'balances' && rec.op === 'findOneAndUpdate') {
        throw new MongoServerError({ code: 121, codeName: 'DocumentValidationFailure', errmsg: 'Document failed validation' });
      }
    };
    const t: Transaction = { ...tx({ type: 'transfer', userId: a, amount: 10 }), toUserId: b };
    await expect(ledger.transfer(t)).rejects.toBeInstanceOf(BalanceOverflow);
    db.hook = undefined;
    expect(await available(ledger, a)).toBe(100);
    expect(await ledger.getTransaction(t.id)).toBeNull();
  });
});

// ---------------------------------------------------------------- holds and refunds: races and stored documents

describe('mongodb ledger: holds and refunds', () => {
  /** The hold as stored, not as of now. */
  const storedHold = async (db: FakeMongo, id: string): Promise<Document | null> => db.colls.holds.findOne({ _id: id });
  const usd = async (ledger: Ledger, u: string, t?: string) => (await ledger.getBalances(u, t)).find((b) => b.currency === 'USD');

  it('of racing captures, voids and a release of one hold exactly one wins; the money moves once', async () => {
    const { db, ledger } = makeLedger();
    const [a, b] = [await withProfile(db, `a-${randomUUID()}`), await withProfile(db, `b-${randomUUID()}`)];
    await fund(ledger, a, 100);
    const h = await ledger.createHold(holdOf({ userId: a, toUserId: b, amount: 80 }, 60_000));
    const before = now(); // every capture and void runs before the expiry; the release after it
    const capture = (amount: number) =>
      ledger.captureHold({ holdId: h.id, transaction: { ...tx({ type: 'transfer', userId: a, amount }), toUserId: b, holdId: h.id }, now: before });

    // Each in its own async context, as separate requests are (the imitation tracks the open transaction by context).
    const apart = <T>(run: () => Promise<T>): Promise<T> => db.als.exit(run);
    const results = await Promise.allSettled([
      apart(() => capture(50)), apart(() => ledger.voidHold({ holdId: h.id, now: before })), apart(() => capture(80)),
      apart(() => ledger.voidHold({ holdId: h.id, now: before })), apart(() => ledger.releaseExpiredHolds({ now: at(h.expiresAt, 1), limit: 10 })),
    ]);

    const won = results.filter((r) => r.status === 'fulfilled' && r.value !== 0);
    expect(won).toHaveLength(1);
    // The losers see the winner's state: a capture or void (invalid_state_transition) or the release (hold_expired).
    for (const r of results) if (r.status === 'rejected') expect([InvalidStateTransition, HoldExpired]).toContain(r.reason?.constructor);
    const final = await storedHold(db, h.id);
    const [pa, pb] = [await usd(ledger, a, before), await usd(ledger, b, before)];
    // However it ended, the hold is settled and nothing is held; the total is still 100.
    expect(final?.status).not.toBe('held');
    expect(pa?.held).toBe(0);
    expect((pa?.available ?? 0) + (pb?.available ?? 0)).toBe(100);
    expect(pb?.available ?? 0).toBe(final?.status === 'captured' ? Number((final.capturedAmount as Long).toBigInt()) : 0);
    expect(db.locks.size).toBe(0);
  });

  it('a capture that lost the race to a void retries on the conflict and is refused; the hold is written only while still held', async () => {
    const { db, ledger } = makeLedger();
    const a = await withProfile(db, `a-${randomUUID()}`);
    await fund(ledger, a, 100);
    const h = await ledger.createHold(holdOf({ userId: a, amount: 70 }));
    let staged = false;
    let voided: Hold | undefined;
    db.hook = async (rec) => {
      // The capture has read the hold (still held) in its snapshot: a void commits now.
      if (staged || rec.txn === undefined || rec.coll !== 'holds' || rec.op !== 'findOne') return;
      staged = true;
      voided = await ledger.voidHold({ holdId: h.id, now: now() });
    };
    const txns = db.txns;
    const t = { ...tx({ type: 'withdrawal', userId: a, amount: 70 }), holdId: h.id };
    await expect(ledger.captureHold({ holdId: h.id, transaction: t, now: now() })).rejects.toBeInstanceOf(InvalidStateTransition);
    db.hook = undefined;

    expect(voided?.status).toBe('voided');
    const writes = db.log.filter((r) => r.txn !== undefined && r.txn > txns && r.coll === 'holds' && r.op === 'findOneAndUpdate');
    expect(writes.length).toBeGreaterThan(0);
    for (const w of writes) expect(w.filter).toMatchObject({ _id: h.id, status: 'held' });
    expect(await ledger.getTransaction(t.id)).toBeNull();
    expect(await usd(ledger, a)).toEqual({ currency: 'USD', available: 100, held: 0 });
  });

  it('racing partial refunds of one transfer never take back more than it moved', async () => {
    const { db, ledger } = makeLedger();
    const [a, b] = [await withProfile(db, `a-${randomUUID()}`), await withProfile(db, `b-${randomUUID()}`)];
    await fund(ledger, a, 100);
    const t = await ledger.transfer({ ...tx({ type: 'transfer', userId: a, amount: 100 }), toUserId: b, refundedAmount: 0 });
    const refund = () => ledger.refund({ refund: { ...tx({ type: 'refund', userId: b, amount: 30, refundOf: t.id }), toUserId: a }, now: now() });

    const results = await Promise.allSettled([refund(), refund(), refund(), refund(), refund()]);

    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(RefundExceedsAmount);
    expect((await ledger.getTransaction(t.id))?.refundedAmount).toBe(90);
    expect([await available(ledger, a), await available(ledger, b)]).toEqual([90, 10]);
    // The original is written only while it still has room for the refund.
    const writes = db.log.filter((r) => r.txn !== undefined && r.coll === 'transactions' && r.op === 'findOneAndUpdate' && r.filter?._id === t.id);
    expect(writes.length).toBeGreaterThan(0);
    for (const w of writes) expect(w.filter).toMatchObject({ status: 'completed', $or: [{ refundedAmount: { $lte: toLong(70) } }, { refundedAmount: { $exists: false } }] });
  });

  it('a withdrawal releases the payer\'s expired holds in its currency in its own transaction, and only those', async () => {
    const { db, ledger } = makeLedger();
    const a = await withProfile(db, `a-${randomUUID()}`);
    await fund(ledger, a, 100);
    const d = await ledger.createDeposit(tx({ type: 'deposit', userId: a, amount: 50, currency: 'EUR' }));
    await ledger.settle({ id: d.id, status: 'completed', now: now() });
    const h = await ledger.createHold(holdOf({ userId: a, amount: 60 }, 1_000));
    const eur = await ledger.createHold(holdOf({ userId: a, amount: 20, currency: 'EUR' }, 1_000));
    const live = await ledger.createHold(holdOf({ userId: a, amount: 30 }, 60_000));
    expect(await usd(ledger, a, h.createdAt)).toEqual({ currency: 'USD', available: 10, held: 90 });

    const w = tx({ type: 'withdrawal', userId: a, amount: 70, createdAt: at(h.expiresAt, 1) });
    await ledger.withdraw(w);

    const ops = db.opsOf(db.txns);
    expect(ops).toContainEqual(expect.objectContaining({ coll: 'holds', op: 'findOneAndUpdate', filter: { _id: h.id, status: 'held' } }));
    expect(await storedHold(db, h.id)).toMatchObject({ status: 'expired', updatedAt: new Date(h.expiresAt) });
    expect((await storedHold(db, eur.id))?.status).toBe('held');
    expect((await storedHold(db, live.id))?.status).toBe('held');
    expect(await usd(ledger, a, w.createdAt)).toEqual({ currency: 'USD', available: 0, held: 30 });
  });

  it('reads count an expired hold as released without writing; a status filter matches the status as of now', async () => {
    const { db, ledger } = makeLedger();
    const a = await withProfile(db, `a-${randomUUID()}`);
    await fund(ledger, a, 100);
    const h = await ledger.createHold(holdOf({ userId: a, amount: 60 }, 1_000));
    const after = at(h.expiresAt, 0);
    const logged = db.log.length;

    expect(await usd(ledger, a, at(h.expiresAt, -1))).toEqual({ currency: 'USD', available: 40, held: 60 });
    expect(await usd(ledger, a, after)).toEqual({ currency: 'USD', available: 100, held: 0 });
    expect(await ledger.getHold(h.id, after)).toEqual({ ...h, status: 'expired', updatedAt: h.expiresAt });
    const list = (status?: Hold['status']) => ledger.listHolds({ userId: a, limit: 10, now: after, ...(status && { status }) });
    expect((await list('expired')).map((x) => x.id)).toEqual([h.id]);
    expect(await list('held')).toEqual([]);
    expect((await list())[0]?.status).toBe('expired');

    expect(db.log.slice(logged).every((r) => r.op === 'find' || r.op === 'findOne')).toBe(true);
    expect((await storedHold(db, h.id))?.status).toBe('held');
  });

  it('the scheduled release takes bounded batches, oldest expiry first, across payers', async () => {
    const { db, ledger } = makeLedger();
    const [a, b] = [await withProfile(db, `a-${randomUUID()}`), await withProfile(db, `b-${randomUUID()}`)];
    await fund(ledger, a, 100);
    await fund(ledger, b, 100);
    const h1 = await ledger.createHold(holdOf({ userId: a, amount: 10 }, 3_000));
    const h2 = await ledger.createHold(holdOf({ userId: b, amount: 20 }, 1_000));
    const h3 = await ledger.createHold(holdOf({ userId: a, amount: 30 }, 2_000));
    const later = at(h1.expiresAt, 10);

    expect(await ledger.releaseExpiredHolds({ now: later, limit: 0 })).toBe(0);
    expect(await ledger.releaseExpiredHolds({ now: later, limit: 2 })).toBe(2);
    expect([(await storedHold(db, h2.id))?.status, (await storedHold(db, h3.id))?.status, (await storedHold(db, h1.id))?.status])
      .toEqual(['expired', 'expired', 'held']);
    expect(await ledger.releaseExpiredHolds({ now: later, limit: 2 })).toBe(1);
    expect(await ledger.releaseExpiredHolds({ now: later, limit: 2 })).toBe(0);
    expect(await usd(ledger, a, later)).toEqual({ currency: 'USD', available: 100, held: 0 });
    expect(await usd(ledger, b, later)).toEqual({ currency: 'USD', available: 100, held: 0 });
  });

  it('works on documents stored before holds and refunds: a balance without held, a transaction without refundedAmount', async () => {
    const { db, ledger } = makeLedger();
    const a = await withProfile(db, `a-${randomUUID()}`);
    await db.colls.balances.insertOne({ _id: balanceId(a, 'USD'), userId: a, currency: 'USD', available: toLong(100) });
    const { refundedAmount: _r, ...oldDeposit } = toTransactionDoc({ ...tx({ type: 'deposit', userId: a, amount: 100 }), status: 'completed' });
    await db.colls.transactions.insertOne(oldDeposit);
    expect((await ledger.getTransaction(oldDeposit._id))?.refundedAmount).toBe(0);
    expect(await usd(ledger, a)).toEqual({ currency: 'USD', available: 100, held: 0 });

    const h = await ledger.createHold(holdOf({ userId: a, amount: 25 }));
    expect(await usd(ledger, a)).toEqual({ currency: 'USD', available: 75, held: 25 });
    await ledger.voidHold({ holdId: h.id, now: now() });

    // A deposit refund: pending (the gateway is asked next), then declined: the money and the refundable amount come back.
    const r = await ledger.refund({ refund: tx({ type: 'refund', status: 'pending', userId: a, amount: 40, refundOf: oldDeposit._id }), now: now() });
    expect((await ledger.getTransaction(oldDeposit._id))?.refundedAmount).toBe(40);
    expect(await ledger.listPendingRefunds({ createdBefore: at(r.createdAt, 1), limit: 10 })).toEqual([r]);
    expect(await usd(ledger, a)).toEqual({ currency: 'USD', available: 60, held: 0 });
    const failed = await ledger.settle({ id: r.id, status: 'failed', now: now() });
    expect(failed.status).toBe('failed');
    expect((await ledger.getTransaction(oldDeposit._id))?.refundedAmount).toBe(0);
    expect(await usd(ledger, a)).toEqual({ currency: 'USD', available: 100, held: 0 });
    expect(await ledger.listPendingRefunds({ createdBefore: at(r.createdAt, 1), limit: 10 })).toEqual([]);
  });
});
