// Balance writes inside a ledger transaction. Each one is a single conditional update
// of the balance document (the filter and the write are one atomic step), so a debit
// never overdraws even where the transaction's conflict detection would not see it.
// `held` is the sum of the user's holds still stored `held`: it moves only together
// with a hold's status, in the same transaction.
import type { ClientSession } from 'mongodb';
import { BalanceOverflow, InsufficientFunds } from '../../core/errors';
import { MAX_BALANCE } from '../../core/money';
import { NEXT_VERSION, type ChangeLog } from './mongo-changes';
import type { MongoCollections } from './mongo-collections';
import { balanceId, exceedsMaxBalance, fromDate, readAmount, toDate, toLong, type HoldDoc } from './mongo-documents';
import { isDocumentValidationFailure } from './mongo-errors';
import { retryOnDuplicate } from './mongo-transaction';

export interface Movement {
  userId: string;
  currency: string;
  amount: number;
}

export const makeBalanceOps = (c: MongoCollections, log: ChangeLog) => {
  /** Makes sure the user holds `currency` (a zero balance), without changing an existing one. */
  const ensureBalance = async (userId: string, currency: string, session: ClientSession): Promise<void> => {
    await retryOnDuplicate(
      c.balances.updateOne(
        { _id: balanceId(userId, currency) },
        { $setOnInsert: { userId, currency, available: toLong(0), held: toLong(0) } },
        { upsert: true, session },
      ),
    );
  };

  const credit = async (userId: string, currency: string, amount: number, session: ClientSession): Promise<void> => {
    const after = await retryOnDuplicate(
      c.balances.findOneAndUpdate(
        { _id: balanceId(userId, currency) },
        { $inc: { available: toLong(amount) }, $setOnInsert: { userId, currency, held: toLong(0) } },
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

  /**
   * Debits only when `available` covers it (InsufficientFunds otherwise); with `toHeld`,
   * the amount moves into `held` instead of leaving the user (a new hold).
   */
  const debit = async (m: Movement, session: ClientSession, toHeld = false): Promise<void> => {
    const amount = toLong(m.amount);
    const r = await c.balances.updateOne(
      { _id: balanceId(m.userId, m.currency), available: { $gte: amount } },
      { $inc: toHeld ? { available: amount.negate(), held: amount } : { available: amount.negate() } },
      { session },
    );
    if (r.matchedCount === 0) throw new InsufficientFunds();
  };

  /**
   * A hold's whole amount leaves `held`; `back` of it returns to `available` (all of it,
   * but for a capture). Guarded by `held` covering the amount, which it always does
   * while `held` is the sum of the holds still stored `held`.
   */
  const unhold = async (m: Movement, back: number, session: ClientSession): Promise<void> => {
    const amount = toLong(m.amount);
    const after = await c.balances.findOneAndUpdate(
      { _id: balanceId(m.userId, m.currency), held: { $gte: amount } },
      { $inc: { available: toLong(back), held: amount.negate() } },
      { returnDocument: 'after', session },
    ).catch((err: unknown) => {
      if (isDocumentValidationFailure(err)) throw new BalanceOverflow();
      throw err;
    });
    if (!after) throw new Error(`held of ${m.userId} in ${m.currency} is below a hold it counts`);
    if (exceedsMaxBalance(after.available)) throw new BalanceOverflow();
  };

  /**
   * Marks each hold `expired` (updatedAt = its expiresAt) if it is still stored `held`,
   * and gives the money of those it marked back to their payers' `available`. The
   * caller passes holds past their expiry; each is written only through the
   * `{ _id, status: 'held' }` filter, so a hold captured, voided or released meanwhile
   * is left alone (and announced only when marked). Returns how many it released.
   */
  const releaseHolds = async (due: HoldDoc[], session: ClientSession): Promise<number> => {
    const freed = new Map<string, Movement>();
    let released = 0;
    for (const h of due) {
      const after = await c.holds.findOneAndUpdate(
        { _id: h._id, status: 'held' },
        { $set: { status: 'expired', updatedAt: h.expiresAt }, $inc: NEXT_VERSION },
        { returnDocument: 'after', session },
      );
      if (!after) continue;
      await log.updatedHold(after, fromDate(h.expiresAt), session);
      released += 1;
      const key = balanceId(h.userId, h.currency);
      const m = freed.get(key) ?? { userId: h.userId, currency: h.currency, amount: 0 };
      freed.set(key, { ...m, amount: m.amount + readAmount(h.amount) });
    }
    for (const m of freed.values()) await unhold(m, m.amount, session);
    return released;
  };

  /** The port's rule before every debit: the payer's holds in the currency past their expiry give their money back. */
  const releaseExpired = async (userId: string, currency: string, now: string, session: ClientSession): Promise<void> => {
    const due = await c.holds.find({ userId, currency, status: 'held', expiresAt: { $lte: toDate(now) } }, { session }).toArray();
    await releaseHolds(due, session);
  };

  return { ensureBalance, credit, creditIfFits, debit, unhold, releaseHolds, releaseExpired };
};

export type BalanceOps = ReturnType<typeof makeBalanceOps>;
