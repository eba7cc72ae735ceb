// Holds on MongoDB. Creating, capturing, voiding and releasing a hold are each one
// transaction that writes the hold only through a `{ _id, status: 'held' }` filter
// and moves its money between the payer's `available` and `held` in the same step, so
// of racing captures, voids and expiries exactly one changes the hold. Reads compute
// holds past their expiry as released (holdAsOf); the scheduled run and every debit
// of the payer release them for real.
import type { ClientSession, Filter } from 'mongodb';
import { HoldNotFound, InvalidRequest, InvalidStateTransition, type DomainError } from '../../core/errors';
import { assertCaptureOf, holdAsOf, holdRefusal, type Hold, type HoldQuery, type HoldStatus } from '../../core/hold';
import type { Ledger } from '../../core/ports';
import type { BalanceOps } from './mongo-balances';
import { NEXT_VERSION, newHoldDoc, newTransactionDoc, type ChangeLog } from './mongo-changes';
import type { MongoCollections } from './mongo-collections';
import { balanceId, fromHoldDoc, fromTransactionDoc, toDate, toLong, type HoldDoc } from './mongo-documents';
import { guarded } from './mongo-errors';
import { finishIdempotency, holdIdempotency, outcomeUpdate } from './mongo-idempotency';
import { requireProfiles } from './mongo-profiles';

export type HoldMethods = Pick<Ledger, 'createHold' | 'captureHold' | 'voidHold' | 'releaseExpiredHolds' | 'getHold' | 'listHolds'>;
type InTransaction = <T>(body: (session: ClientSession) => Promise<T>) => Promise<T>;

/** The holds whose status as of `at` is `status` (see holdAsOf): a stored `held` past its expiry reads as `expired`. */
export const holdStatusFilter = (status: HoldStatus, at: Date): Filter<HoldDoc> => {
  switch (status) {
    case 'held':
      return { status: 'held', expiresAt: { $gt: at } };
    case 'expired':
      return { $or: [{ status: 'expired' }, { status: 'held', expiresAt: { $lte: at } }] };
    default:
      return { status };
  }
};

/**
 * The holds a user pays, newest first by (createdAt, id): served by the
 * {userId: 1, createdAt: -1, _id: -1} index, `before` a keyset position as for histories.
 */
export const holdsFilter = (q: HoldQuery): Filter<HoldDoc> => {
  const all: Filter<HoldDoc>[] = [{ userId: q.userId }];
  if (q.status) all.push(holdStatusFilter(q.status, toDate(q.now)));
  if (q.before) {
    const at = toDate(q.before.createdAt);
    all.push({ $or: [{ createdAt: { $lt: at } }, { createdAt: at, _id: { $lt: q.before.id } }] });
  }
  return all.length === 1 ? { userId: q.userId } : { $and: all };
};

export const makeMongoHolds = (c: MongoCollections, inTransaction: InTransaction, ops: BalanceOps, log: ChangeLog): HoldMethods => {
  /** The hold, if it can become `to` at `now` (HoldNotFound, HoldExpired, InvalidStateTransition otherwise). */
  const settleable = async (id: string, to: 'captured' | 'voided', now: string, session: ClientSession): Promise<Hold> => {
    const doc = await c.holds.findOne({ _id: id }, { session });
    if (!doc) throw new HoldNotFound();
    const hold = fromHoldDoc(doc);
    const refusal = holdRefusal(hold, to, now);
    if (refusal) throw refusal;
    return hold;
  };

  /**
   * Settles the hold only while it is still held and unexpired: the one winner of racing
   * captures, voids and releases. Returns the hold as stored after the change (announced).
   */
  const settle = async (id: string, to: 'captured' | 'voided', now: string, set: Partial<HoldDoc>, session: ClientSession): Promise<HoldDoc> => {
    const at = toDate(now);
    const after = await c.holds.findOneAndUpdate(
      { _id: id, status: 'held', expiresAt: { $gt: at } },
      { $set: { ...set, status: to, updatedAt: at }, $inc: NEXT_VERSION },
      { returnDocument: 'after', session },
    );
    if (after) return log.updatedHold(after, now, session);
    const current = await c.holds.findOne({ _id: id }, { session });
    const refusal: DomainError | null = current ? holdRefusal(fromHoldDoc(current), to, now) : new HoldNotFound();
    throw refusal ?? new InvalidStateTransition('held', to, 'hold', undefined);
  };

  return {
    createHold: (hold, idem) =>
      inTransaction(async (session) => {
        const doc = newHoldDoc(hold);
        const stored = fromHoldDoc(doc);
        // First: record the outcome, only while this request holds the key (undone if a check below refuses).
        await holdIdempotency(c, idem, session, outcomeUpdate({ kind: 'hold', hold: stored }));
        await requireProfiles(c, hold, session);
        await ops.releaseExpired(hold.userId, hold.currency, hold.createdAt, session);
        await ops.debit(hold, session, true);
        await c.holds.insertOne(doc, { session });
        log.insertedHold(doc, hold.createdAt, session);
        return stored;
      }),

    captureHold: ({ holdId, transaction: tx, now }, idem) =>
      inTransaction(async (session) => {
        const txDoc = newTransactionDoc(tx);
        const stored = fromTransactionDoc(txDoc);
        await holdIdempotency(c, idem, session, outcomeUpdate({ kind: 'transaction', transaction: stored }));
        const hold = await settleable(holdId, 'captured', now, session);
        assertCaptureOf(hold, tx);
        if (tx.amount > hold.amount) throw new InvalidRequest('amount exceeds the hold', 'amount');
        const after = await settle(holdId, 'captured', now, { capturedAmount: toLong(tx.amount), transactionId: tx.id }, session);
        // The whole hold leaves `held`; what was not captured returns to the payer.
        await ops.unhold(hold, hold.amount - tx.amount, session);
        if (hold.toUserId !== undefined) await ops.credit(hold.toUserId, hold.currency, tx.amount, session);
        await c.transactions.insertOne(txDoc, { session });
        log.insertedTransaction(txDoc, now, session);
        return { hold: fromHoldDoc(after), transaction: stored };
      }),

    voidHold: ({ holdId, now }, idem) =>
      inTransaction(async (session) => {
        // First: still ours? The outcome (the voided hold) is written last by the same conditional filter.
        await holdIdempotency(c, idem, session);
        const hold = await settleable(holdId, 'voided', now, session);
        const voided = fromHoldDoc(await settle(holdId, 'voided', now, {}, session));
        await ops.unhold(hold, hold.amount, session);
        await finishIdempotency(c, idem, { kind: 'hold', hold: voided }, session);
        return voided;
      }),

    releaseExpiredHolds: ({ now, limit }) =>
      guarded('ledger', async () => {
        // limit(0) would mean "no limit" to the server: a batch is bounded, always.
        if (limit < 1) return 0;
        const due = await c.holds
          .find({ status: 'held', expiresAt: { $lte: toDate(now) } })
          .sort({ expiresAt: 1, _id: 1 })
          .limit(limit)
          .toArray();
        // One small transaction per payer and currency (their holds and one balance), not one for the batch.
        const byBalance = new Map<string, HoldDoc[]>();
        for (const h of due) {
          const key = balanceId(h.userId, h.currency);
          byBalance.set(key, [...(byBalance.get(key) ?? []), h]);
        }
        let released = 0;
        for (const holds of byBalance.values()) released += await inTransaction((session) => ops.releaseHolds(holds, session));
        return released;
      }),

    getHold: (id, now) =>
      guarded('ledger', async () => {
        const doc = await c.holds.findOne({ _id: id });
        return doc ? holdAsOf(fromHoldDoc(doc), now) : null;
      }),

    listHolds: (q) =>
      guarded('ledger', async () => {
        const docs = await c.holds.find(holdsFilter(q)).sort({ createdAt: -1, _id: -1 }).limit(q.limit).toArray();
        return docs.map((d) => holdAsOf(fromHoldDoc(d), q.now));
      }),
  };
};
