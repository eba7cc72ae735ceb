// Refunds over Redis: the refund itself and the settling of a pending deposit refund,
// each one script (redis-refund-scripts.ts) with a compare-and-set on the original's
// JSON, which carries refundedAmount.
import { ServiceUnavailable, TransactionNotFound } from '../../core/errors';
import type { IdempotencyScope, Ledger, SettleInput } from '../../core/ports';
import { refundRefusal, type Transaction } from '../../core/transaction';
import {
  amountArg, expiryArgs, MAX_CAS_ROUNDS, parseTransaction, transactionJson, transactionOutcomeJson, withIdem, withToken,
  type RedisLedgerContext,
} from './redis-calls';
import { scriptRefusal } from './redis-errors';
import { historyMember } from './redis-keys';

const tooBusy = (): ServiceUnavailable => new ServiceUnavailable('The transaction is changing too often, try again shortly');

/** The original with `delta` added to what refunds took back from it. */
const withRefunded = (original: Transaction, delta: number, now: string): string =>
  transactionJson({ ...original, refundedAmount: (original.refundedAmount ?? 0) + delta, updatedAt: now });

export const makeRedisRefund = ({ keys, run, read, outbox, seed }: RedisLedgerContext): Ledger['refund'] =>
  async ({ refund, now }, idem) => {
    const json = transactionJson(refund);
    const payer = refund.userId;
    const other = refund.toUserId ?? payer;
    const pending = refund.status === 'pending';
    for (let round = 0; round < MAX_CAS_ROUNDS; round++) {
      const current = await read(refund.refundOf ?? '');
      const refusal = current ? refundRefusal(current.tx, refund.amount) : new TransactionNotFound();
      const mode = current?.tx.type === 'withdrawal' ? 'credit' : refund.toUserId === undefined ? 'debit' : 'move';
      // A refusal decided from the read still comes after the key check (the port's order): the script runs
      // with an expected original no stored transaction has, which checks the key and writes nothing.
      const result = await run('refund', {
        keys: withIdem(keys, [
          keys.transaction(refund.id), keys.transaction(refund.refundOf ?? ''), keys.balances(payer), keys.balances(other),
          keys.history(payer), keys.history(other), keys.pendingRefunds(), keys.liveHolds(payer), keys.holdExpiries(), ...outbox,
        ], idem),
        args: withToken([
          !current || refusal ? '' : current.raw, current ? withRefunded(current.tx, refund.amount, now) : '', mode,
          refund.currency, amountArg(refund.amount), json, historyMember(refund), pending ? '1' : '0', transactionOutcomeJson(json),
          ...expiryArgs(keys, now), refund.id, refund.status, seed(),
        ], idem),
      });
      if (result === 'exists') {
        // A lost reply's script did run: answer what it stored.
        const stored = await read(refund.id);
        if (!stored) throw new ServiceUnavailable();
        return stored.tx;
      }
      if (refusal) throw refusal;
      if (result === 'ok') return parseTransaction(json);
      if (result === 'missing') throw new TransactionNotFound();
      if (result !== 'conflict') throw scriptRefusal(result);
    }
    throw tooBusy();
  };

/**
 * One round of settling the pending deposit refund read as `current`: a failure credits
 * the owner back and gives the amount back to the original's refundedAmount. Null when
 * either changed meanwhile (read again).
 */
export const settleRefundRound = async (
  { keys, run, read, outbox, seed }: RedisLedgerContext, current: { raw: string; tx: Transaction }, input: SettleInput,
  idem: IdempotencyScope | undefined,
): Promise<Transaction | null> => {
  const { tx } = current;
  const json = transactionJson({ ...tx, status: input.status, updatedAt: input.now, ...(input.metadata && { metadata: { ...input.metadata } }) });
  const fails = input.status === 'failed';
  const original = fails && tx.refundOf !== undefined ? await read(tx.refundOf) : null;
  const result = await run('settleRefund', {
    keys: withIdem(keys, [keys.transaction(tx.id), keys.balances(tx.userId), keys.pendingRefunds(), keys.transaction(tx.refundOf ?? tx.id), ...outbox], idem),
    args: withToken([current.raw, json, fails ? '1' : '0', tx.currency, amountArg(tx.amount), historyMember(tx), transactionOutcomeJson(json),
      original?.raw ?? '', original ? withRefunded(original.tx, -tx.amount, input.now) : '', input.status, input.now, seed()], idem),
  });
  if (result === 'ok') return parseTransaction(json);
  if (result === 'conflict') return null;
  if (result === 'missing') throw new TransactionNotFound();
  throw scriptRefusal(result);
};
