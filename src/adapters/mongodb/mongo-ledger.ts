// The Ledger on MongoDB. Every money movement is one multi-document transaction:
// a guarded debit ({ available: { $gte: amount } }) that matches nothing when the
// balance is short, the credit, the transaction document and the idempotency
// outcome commit together or not at all. Concurrent writers to one balance get a
// WriteConflict and are retried by runInTransaction, so overdraft is impossible.
// A method given an idempotency scope first makes sure, inside its transaction and
// before any effect, that the request still holds the key (holdIdempotency); a
// request whose claim was taken over gets IdempotencyKeyInUse and moves nothing.
import type { ClientSession, Filter } from 'mongodb';
import { BalanceOverflow, InsufficientFunds, InvalidStateTransition, NotFound, TransactionNotFound } from '../../core/errors';
import { MAX_BALANCE } from '../../core/money';
import type { HistoryQuery, IdempotencyScope, Ledger, SettleInput } from '../../core/ports';
import type { Transaction } from '../../core/transaction';
import { profileNotFound } from '../../core/user';
import type { MongoCollections } from './mongo-collections';
import {
  balanceId, exceedsMaxBalance, fromBalanceDoc, fromTransactionDoc, toDate, toLong, toMetadataDoc, toTransactionDoc,
  type TransactionDoc,
} from './mongo-documents';
import { guarded, isDocumentValidationFailure } from './mongo-errors';
import { finishIdempotency, holdIdempotency, makeMongoIdempotency, outcomeUpdate } from './mongo-idempotency';
import { retryOnDuplicate, runInTransaction, type RetryPolicy, type SessionSource } from './mongo-transaction';

export const makeMongoLedger = (client: SessionSource, c: MongoCollections, policy?: RetryPolicy): Ledger => {
  const inTransaction = <T>(body: (session: ClientSession) => Promise<T>): Promise<T> =>
    guarded('ledger', () => runInTransaction(client, body, policy));

  /** Makes sure the user holds `currency` (a zero balance), without changing an existing one. */
  const ensureBalance = async (userId: string, currency: string, session: ClientSession): Promise<void> => {
    await retryOnDuplicate(
      c.balances.updateOne(
        { _id: balanceId(userId, currency) },
        { $setOnInsert: { userId, currency, available: toLong(0) } },
        { upsert: true, session },
      ),
    );
  };

  const credit = async (userId: string, currency: string, amount: number, session: ClientSession): Promise<void> => {
    const after = await retryOnDuplicate(
      c.balances.findOneAndUpdate(
        { _id: balanceId(userId, currency) },
        { $inc: { available: toLong(amount) }, $setOnInsert: { userId, currency } },
        { upsert: true, returnDocument: 'after', session },
      ),
    ).catch((err: unknown) => {
      // The collection's validator (migrate.ts) refuses a balance above 2^53 − 1 on a real server.
      if (isDocumentValidationFailure(err)) throw new BalanceOverflow();
      throw err;
    });
    // Aborts the whole transaction: balances stay exactly representable everywhere.
    if (!after || exceedsMaxBalance(after.available)) throw new BalanceOverflow();
  };

  /**
   * Credits a settling deposit when the balance can hold it; false (nothing written) when
   * it cannot, so the transaction can go on to fail the deposit instead of aborting.
   */
  const creditIfFits = async (userId: string, currency: string, amount: number, session: ClientSession): Promise<boolean> => {
    const r = await c.balances.updateOne(
      { _id: balanceId(userId, currency), available: { $lte: toLong(MAX_BALANCE - amount) } },
      { $inc: { available: toLong(amount) } },
      { session },
    );
    if (r.matchedCount > 0) return true;
    // Nothing matched: the row is missing (credit creates it) or the credit does not fit.
    if (await c.balances.findOne({ _id: balanceId(userId, currency) }, { session })) return false;
    await credit(userId, currency, amount, session);
    return true;
  };

  /** Debits only when the balance covers it; the filter and the write are one atomic step. */
  const debit = async (tx: Transaction, session: ClientSession): Promise<void> => {
    const amount = toLong(tx.amount);
    const r = await c.balances.updateOne(
      { _id: balanceId(tx.userId, tx.currency), available: { $gte: amount } },
      { $inc: { available: amount.negate() } },
      { session },
    );
    if (r.matchedCount === 0) throw new InsufficientFunds();
  };

  /** Profiles, read inside the movement's transaction: sender first, then recipient. */
  const requireProfiles = async (tx: Transaction, session: ClientSession): Promise<void> => {
    if (!(await c.users.findOne({ _id: tx.userId }, { session, projection: { _id: 1 } }))) throw profileNotFound();
    if (tx.toUserId !== undefined && !(await c.users.findOne({ _id: tx.toUserId }, { session, projection: { _id: 1 } }))) {
      throw profileNotFound('toUserId');
    }
  };

  const transactionOrNotFound = async (id: string, session?: ClientSession): Promise<TransactionDoc> => {
    const doc = await c.transactions.findOne({ _id: id }, session ? { session } : {});
    if (!doc) throw new TransactionNotFound();
    return doc;
  };

  return {
    ...makeMongoIdempotency(c),

    createDeposit: (tx, idem) =>
      inTransaction(async (session) => {
        const doc = toTransactionDoc(tx);
        // First: link the deposit to the claim, only while this request holds it.
        await holdIdempotency(c, idem, session, { $set: { transactionId: tx.id } });
        await c.transactions.insertOne(doc, { session });
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
          },
          { returnDocument: 'after', session },
        );
        if (!after) {
          const current = await transactionOrNotFound(input.id, session);
          throw new InvalidStateTransition(current.status, input.status);
        }
        const tx = fromTransactionDoc(after);
        if (tx.status === 'completed' && tx.type === 'deposit' && !(await creditIfFits(tx.userId, tx.currency, tx.amount, session))) {
          // The balance cannot hold it: the deposit fails instead; its outcome is the caller's to record.
          const failed = await c.transactions.findOneAndUpdate(
            { _id: input.id },
            { $set: { status: 'failed' } },
            { returnDocument: 'after', session },
          );
          if (!failed) throw new TransactionNotFound();
          return fromTransactionDoc(failed);
        }
        await finishIdempotency(c, idem, { kind: 'transaction', transaction: tx }, session);
        return tx;
      }),

    withdraw: (tx, idem) =>
      inTransaction(async (session) => {
        const doc = toTransactionDoc(tx);
        const stored = fromTransactionDoc(doc);
        // First: record the outcome, only while this request holds the key (undone if the debit is refused).
        await holdIdempotency(c, idem, session, outcomeUpdate({ kind: 'transaction', transaction: stored }));
        await requireProfiles(tx, session);
        await debit(tx, session);
        await c.transactions.insertOne(doc, { session });
        return stored;
      }),

    transfer: (tx, idem) => {
      const toUserId = tx.toUserId;
      if (!toUserId) return Promise.reject(new RangeError('transfer without toUserId'));
      return inTransaction(async (session) => {
        const doc = toTransactionDoc(tx);
        const stored = fromTransactionDoc(doc);
        // First: record the outcome, only while this request holds the key (undone if the debit is refused).
        await holdIdempotency(c, idem, session, outcomeUpdate({ kind: 'transaction', transaction: stored }));
        await requireProfiles(tx, session);
        await debit(tx, session);
        await credit(toUserId, tx.currency, tx.amount, session);
        await c.transactions.insertOne(doc, { session });
        return stored;
      });
    },

    setPaymentRef: (id, paymentRef) =>
      guarded('ledger', async () => {
        const r = await c.transactions.updateOne({ _id: id }, { $set: { paymentRef } });
        if (r.matchedCount === 0) throw new TransactionNotFound();
      }),

    updateMetadata: (id, metadata, now) =>
      guarded('ledger', async () => {
        const after = await c.transactions.findOneAndUpdate(
          { _id: id },
          { $set: { metadata: toMetadataDoc(metadata), updatedAt: toDate(now) } },
          { returnDocument: 'after' },
        );
        if (!after) throw new TransactionNotFound();
        return fromTransactionDoc(after);
      }),

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

    listPendingDeposits: ({ createdBefore, limit }) =>
      guarded('ledger', async () => {
        const docs = await c.transactions
          .find({ status: 'pending', type: 'deposit', createdAt: { $lt: toDate(createdBefore) } })
          .sort({ createdAt: 1, _id: 1 })
          .limit(limit)
          .toArray();
        return docs.map(fromTransactionDoc);
      }),

    getBalances: (userId) =>
      guarded('ledger', async () => {
        const docs = await c.balances.find({ userId }).sort({ currency: 1 }).toArray();
        return docs.map(fromBalanceDoc);
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
