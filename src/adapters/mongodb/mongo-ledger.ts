// The Ledger on MongoDB. Every money movement is one multi-document transaction:
// a guarded debit ({ available: { $gte: amount } }) that matches nothing when the
// balance is short, the credit, the transaction document and the idempotency
// outcome commit together or not at all. Concurrent writers to one balance get a
// WriteConflict and are retried by runInTransaction, so overdraft is impossible.
// A method given an idempotency scope first makes sure, inside its transaction and
// before any effect, that the request still holds the key (holdIdempotency); a
// request whose claim was taken over gets IdempotencyKeyInUse and moves nothing.
// Every debit first releases the payer's expired holds in its currency in the same
// transaction (mongo-balances.ts); holds and refunds live in mongo-holds.ts and
// mongo-refunds.ts. Every change of a transaction or hold counts itself in the
// document's `version` and, with events on, writes its event into the outbox in the
// same transaction (mongo-changes.ts).
import type { ClientSession, Filter } from 'mongodb';
import { InvalidStateTransition, TransactionNotFound } from '../../core/errors';
import type { Balance } from '../../core/money';
import type { HistoryQuery, IdempotencyScope, Ledger, SettleInput } from '../../core/ports';
import type { Transaction } from '../../core/transaction';
import { makeBalanceOps } from './mongo-balances';
import { makeChangeLog, NEXT_VERSION, newTransactionDoc } from './mongo-changes';
import type { MongoCollections } from './mongo-collections';
import {
  fromBalanceDoc, fromHoldDoc, fromTransactionDoc, toDate, toMetadataDoc, type TransactionDoc,
} from './mongo-documents';
import { guarded } from './mongo-errors';
import { makeMongoHolds } from './mongo-holds';
import { finishIdempotency, holdIdempotency, makeMongoIdempotency, outcomeUpdate } from './mongo-idempotency';
import { requireProfiles } from './mongo-profiles';
import { makeMongoRefunds } from './mongo-refunds';
import { runInTransaction, type RetryPolicy, type SessionSource } from './mongo-transaction';

export interface MongoLedgerOptions {
  /** Write an event for every change into the outbox (EVENT_BUS_NAME is set). */
  events?: boolean | undefined;
}

export const makeMongoLedger = (
  client: SessionSource, c: MongoCollections, policy?: RetryPolicy, options: MongoLedgerOptions = {},
): Ledger => {
  const log = makeChangeLog(c, options);
  // Each attempt starts with no events; those of the attempt that commits are written last, in it.
  const inTransaction = <T>(body: (session: ClientSession) => Promise<T>): Promise<T> =>
    guarded('ledger', () => runInTransaction(client, async (session) => {
      log.begin(session);
      const result = await body(session);
      await log.flush(session);
      return result;
    }, policy));
  const ops = makeBalanceOps(c, log);
  const { ensureBalance, credit, creditIfFits, debit, releaseExpired } = ops;
  const refunds = makeMongoRefunds(c, inTransaction, ops, log);

  const transactionOrNotFound = async (id: string, session?: ClientSession): Promise<TransactionDoc> => {
    const doc = await c.transactions.findOne({ _id: id }, session ? { session } : {});
    if (!doc) throw new TransactionNotFound();
    return doc;
  };

  /** Pending deposits or refunds created before `createdBefore`, oldest first (the pending_by_age index). */
  const pendingOf = (type: Transaction['type']) => ({ createdBefore, limit }: { createdBefore: string; limit: number }) =>
    guarded('ledger', async () => {
      const docs = await c.transactions
        .find({ status: 'pending', type, createdAt: { $lt: toDate(createdBefore) } })
        .sort({ createdAt: 1, _id: 1 })
        .limit(limit)
        .toArray();
      return docs.map(fromTransactionDoc);
    });

  return {
    ...makeMongoIdempotency(c),

    createDeposit: (tx, idem) =>
      inTransaction(async (session) => {
        const doc = newTransactionDoc(tx);
        // First: link the deposit to the claim, only while this request holds it.
        await holdIdempotency(c, idem, session, { $set: { transactionId: tx.id } });
        await c.transactions.insertOne(doc, { session });
        log.insertedTransaction(doc, tx.createdAt, session);
        // The user now holds this currency, even before the deposit settles.
        await ensureBalance(tx.userId, tx.currency, session);
        return fromTransactionDoc(doc);
      }),

    settle: (input: SettleInput, idem?: IdempotencyScope) =>
      inTransaction(async (session) => {
        // First: still ours? (The outcome depends on the update below, so it is written last,
        // by the same conditional filter: a take-over in between aborts the whole step.)
        await holdIdempotency(c, idem, session);
        const after = await c.transactions.findOneAndUpdate(
          { _id: input.id, status: 'pending' },
          {
            $set: {
              status: input.status,
              updatedAt: toDate(input.now),
              ...(input.metadata && { metadata: toMetadataDoc(input.metadata) }),
            },
            $inc: NEXT_VERSION,
          },
          { returnDocument: 'after', session },
        );
        if (!after) {
          const current = await transactionOrNotFound(input.id, session);
          throw new InvalidStateTransition(current.status, input.status);
        }
        const tx = fromTransactionDoc(after);
        if (tx.type === 'refund' && tx.status === 'failed') await refunds.giveBack(tx, input.now, session);
        if (tx.status === 'completed' && tx.type === 'deposit' && !(await creditIfFits(tx.userId, tx.currency, tx.amount, session))) {
          // The balance cannot hold it: the deposit fails instead (the same change, one version);
          // its outcome is the caller's to record.
          const failed = await c.transactions.findOneAndUpdate(
            { _id: input.id },
            { $set: { status: 'failed' } },
            { returnDocument: 'after', session },
          );
          if (!failed) throw new TransactionNotFound();
          return fromTransactionDoc(await log.updatedTransaction(failed, true, input.now, session));
        }
        await log.updatedTransaction(after, true, input.now, session);
        await finishIdempotency(c, idem, { kind: 'transaction', transaction: tx }, session);
        return tx;
      }),

    withdraw: (tx, idem) =>
      inTransaction(async (session) => {
        const doc = newTransactionDoc(tx);
        const stored = fromTransactionDoc(doc);
        // First: record the outcome, only while this request holds the key (undone if the debit is refused).
        await holdIdempotency(c, idem, session, outcomeUpdate({ kind: 'transaction', transaction: stored }));
        await requireProfiles(c, tx, session);
        await releaseExpired(tx.userId, tx.currency, tx.createdAt, session);
        await debit(tx, session);
        await c.transactions.insertOne(doc, { session });
        log.insertedTransaction(doc, tx.createdAt, session);
        return stored;
      }),

    transfer: (tx, idem) => {
      const toUserId = tx.toUserId;
      if (!toUserId) return Promise.reject(new RangeError('transfer without toUserId'));
      return inTransaction(async (session) => {
        const doc = newTransactionDoc(tx);
        const stored = fromTransactionDoc(doc);
        // First: record the outcome, only while this request holds the key (undone if the debit is refused).
        await holdIdempotency(c, idem, session, outcomeUpdate({ kind: 'transaction', transaction: stored }));
        await requireProfiles(c, tx, session);
        await releaseExpired(tx.userId, tx.currency, tx.createdAt, session);
        await debit(tx, session);
        await credit(toUserId, tx.currency, tx.amount, session);
        await c.transactions.insertOne(doc, { session });
        log.insertedTransaction(doc, tx.createdAt, session);
        return stored;
      });
    },

    ...makeMongoHolds(c, inTransaction, ops, log),
    refund: refunds.refund,

    // Not a change callers see (as on every store): no version, no event.
    setPaymentRef: (id, paymentRef) =>
      guarded('ledger', async () => {
        const r = await c.transactions.updateOne({ _id: id }, { $set: { paymentRef } });
        if (r.matchedCount === 0) throw new TransactionNotFound();
      }),

    updateMetadata: (id, metadata, now) => {
      const change = async (session?: ClientSession): Promise<Transaction> => {
        const after = await c.transactions.findOneAndUpdate(
          { _id: id },
          { $set: { metadata: toMetadataDoc(metadata), updatedAt: toDate(now) }, $inc: NEXT_VERSION },
          { returnDocument: 'after', ...(session && { session }) },
        );
        if (!after) throw new TransactionNotFound();
        return fromTransactionDoc(await log.updatedTransaction(after, false, now, session));
      };
      // A single-document update is atomic on its own; with events on, its event commits with it in one transaction.
      return options.events ? inTransaction(change) : guarded('ledger', () => change());
    },

    getTransaction: (id) =>
      guarded('ledger', async () => {
        const doc = await c.transactions.findOne({ _id: id });
        return doc ? fromTransactionDoc(doc) : null;
      }),

    listTransactions: (q: HistoryQuery) =>
      guarded('ledger', async () => {
        const docs = await c.transactions
          .find(historyFilter(q))
          .sort({ createdAt: -1, _id: -1 })
          .limit(q.limit)
          .toArray();
        return docs.map(fromTransactionDoc);
      }),

    listPendingDeposits: pendingOf('deposit'),
    listPendingRefunds: pendingOf('refund'),

    // One snapshot for the balances and the expired holds, so a release committing in
    // between can neither hide a hold's money nor count it twice.
    getBalances: (userId, now = new Date().toISOString()) =>
      inTransaction(async (session): Promise<Balance[]> => {
        const docs = await c.balances.find({ userId }, { session }).sort({ currency: 1 }).toArray();
        const stale = await c.holds.find({ userId, status: 'held', expiresAt: { $lte: toDate(now) } }, { session }).toArray();
        // Holds past their expiry but not yet released count as released.
        const back = new Map<string, number>();
        for (const h of stale.map(fromHoldDoc)) back.set(h.currency, (back.get(h.currency) ?? 0) + h.amount);
        return docs.map(fromBalanceDoc).map((b) => {
          const expired = back.get(b.currency) ?? 0;
          return { currency: b.currency, available: b.available + expired, held: b.held - expired };
        });
      }),
  };
};

/**
 * A user's history, newest first by (createdAt, id): served by the
 * {parties: 1, createdAt: -1, _id: -1} index. `before` is a keyset position, so
 * inserts during paging never shift an older page.
 */
export const historyFilter = (q: HistoryQuery): Filter<TransactionDoc> => {
  const filter: Filter<TransactionDoc> = { parties: q.userId };
  if (q.type) filter.type = q.type;
  if (q.status) filter.status = q.status;
  if (q.before) {
    const at = toDate(q.before.createdAt);
    filter.$or = [{ createdAt: { $lt: at } }, { createdAt: at, _id: { $lt: q.before.id } }];
  }
  return filter;
};
