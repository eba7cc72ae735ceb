// Refunds on MongoDB: one transaction moves the money, adds the amount to the
// original's refundedAmount and stores the refund. The original is written only
// through a filter that still leaves room for this refund, so racing partial refunds
// can never take back more than the original, whatever interleaving they meet.
import type { ClientSession } from 'mongodb';
import { RefundExceedsAmount, TransactionNotFound } from '../../core/errors';
import type { Ledger } from '../../core/ports';
import { refundableAmount, refundRefusal, type Transaction } from '../../core/transaction';
import type { BalanceOps } from './mongo-balances';
import { NEXT_VERSION, newTransactionDoc, type ChangeLog } from './mongo-changes';
import type { MongoCollections } from './mongo-collections';
import { fromTransactionDoc, toDate, toLong } from './mongo-documents';
import { holdIdempotency, outcomeUpdate } from './mongo-idempotency';

type InTransaction = <T>(body: (session: ClientSession) => Promise<T>) => Promise<T>;

export const makeMongoRefunds = (c: MongoCollections, inTransaction: InTransaction, ops: BalanceOps, log: ChangeLog) => {
  /** Adds `amount` to the original's refundedAmount while that stays within its amount (a missing field is 0). */
  const takeFrom = async (original: Transaction, amount: number, now: string, session: ClientSession): Promise<void> => {
    const after = await c.transactions.findOneAndUpdate(
      {
        _id: original.id,
        status: 'completed',
        $or: [{ refundedAmount: { $lte: toLong(original.amount - amount) } }, { refundedAmount: { $exists: false } }],
      },
      { $inc: { refundedAmount: toLong(amount), ...NEXT_VERSION }, $set: { updatedAt: toDate(now) } },
      { returnDocument: 'after', session },
    );
    if (!after) throw new RefundExceedsAmount(refundableAmount(original));
    await log.updatedTransaction(after, false, now, session);
  };

  const refund: Ledger['refund'] = ({ refund: tx, now }, idem) =>
    inTransaction(async (session) => {
      const doc = newTransactionDoc(tx);
      const stored = fromTransactionDoc(doc);
      // First, only while this request holds the key: a completed refund records its outcome
      // (undone if a check below refuses); a pending one is linked to the claim, like a deposit.
      await holdIdempotency(
        c, idem, session,
        tx.status === 'pending' ? { $set: { transactionId: tx.id } } : outcomeUpdate({ kind: 'transaction', transaction: stored }),
      );
      const found = await c.transactions.findOne({ _id: tx.refundOf ?? '' }, { session });
      if (!found) throw new TransactionNotFound();
      const original = fromTransactionDoc(found);
      const refusal = refundRefusal(original, tx.amount);
      if (refusal) throw refusal;
      if (original.type === 'withdrawal') {
        await ops.credit(tx.userId, tx.currency, tx.amount, session);
      } else {
        // A transfer's payee or a deposit's owner gives the money back (a debit: expired holds first).
        await ops.releaseExpired(tx.userId, tx.currency, now, session);
        await ops.debit(tx, session);
        if (tx.toUserId !== undefined) await ops.credit(tx.toUserId, tx.currency, tx.amount, session);
      }
      await takeFrom(original, tx.amount, now, session);
      await c.transactions.insertOne(doc, { session });
      log.insertedTransaction(doc, now, session);
      return stored;
    });

  /**
   * In a settle's transaction: a deposit refund that failed credits its owner back and
   * gives its amount back to the original's refundedAmount.
   */
  const giveBack = async (tx: Transaction, now: string, session: ClientSession): Promise<void> => {
    await ops.credit(tx.userId, tx.currency, tx.amount, session);
    if (tx.refundOf === undefined) return;
    const after = await c.transactions.findOneAndUpdate(
      { _id: tx.refundOf },
      { $inc: { refundedAmount: toLong(-tx.amount), ...NEXT_VERSION }, $set: { updatedAt: toDate(now) } },
      { returnDocument: 'after', session },
    );
    if (after) await log.updatedTransaction(after, false, now, session);
  };

  return { refund, giveBack };
};
