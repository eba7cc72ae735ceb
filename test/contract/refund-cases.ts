// Refunds against the Ledger port (part of the storage contract, see holds-refunds-contract.ts).
import { BalanceOverflow, IdempotencyKeyInUse, InsufficientFunds, InvalidStateTransition, NotFound, RefundExceedsAmount } from '../../src/core/errors';
import { MAX_BALANCE } from '../../src/core/money';
import type { Ledger } from '../../src/core/ports';
import type { Transaction } from '../../src/core/transaction';
import { after, newHold, refundOf, refusal, retryOf, scope, storeHelpers, tick, times, tx, usd, type Stores } from './contract-fixtures';

export const describeRefundCases = (get: Stores): void => {
  describe('refunds', () => {
    const { newUser, fund, balance } = storeHelpers(get);
    let ledger: Ledger;
    beforeAll(() => {
      ({ ledger } = get());
    });
    /** Refuses `refund` with no effect at all: nothing stored, the original unchanged. */
    const refusedWith = async (refund: Transaction): Promise<unknown> => {
      const original = refund.refundOf === undefined ? null : await ledger.getTransaction(refund.refundOf);
      const err = await refusal(ledger.refund({ refund, now: refund.createdAt }));
      expect(await ledger.getTransaction(refund.id)).toBeNull();
      if (original) expect(await ledger.getTransaction(original.id)).toEqual(original);
      return err;
    };

    it('refunds a transfer from the payee to the sender, in part and more than once, in both histories', async () => {
      const [a, b] = [await newUser(), await newUser()];
      await fund(a, 1000);
      const t = await ledger.transfer(tx({ type: 'transfer', userId: a, toUserId: b, amount: 300 }));
      const now = tick();
      const r1 = refundOf(t, 100, now);
      expect(r1).toMatchObject({ userId: b, toUserId: a, status: 'completed' });
      expect(await ledger.refund({ refund: r1, now })).toEqual(r1);
      expect(await ledger.getTransaction(r1.id)).toEqual(r1);
      // Only what can be refunded counts refunds: a refund carries no refundedAmount.
      expect(await ledger.getTransaction(r1.id)).not.toHaveProperty('refundedAmount');
      // The original keeps its status; it counts what was taken back.
      expect(await ledger.getTransaction(t.id)).toEqual({ ...t, refundedAmount: 100, updatedAt: now });
      expect(await balance(a, tick())).toEqual(usd(800, 0));
      expect(await balance(b, tick())).toEqual(usd(200, 0));
      for (const u of [a, b]) {
        expect(await ledger.listTransactions({ userId: u, limit: 10, type: 'refund' })).toEqual([r1]);
        expect((await ledger.listTransactions({ userId: u, limit: 2 })).map((x) => x.id)).toEqual([r1.id, t.id]);
      }
      const later = tick();
      const r2 = refundOf(t, 200, later);
      await ledger.refund({ refund: r2, now: later });
      expect(await ledger.getTransaction(t.id)).toEqual({ ...t, refundedAmount: 300, updatedAt: later });
      expect(await ledger.listTransactions({ userId: b, limit: 10, type: 'refund' })).toEqual([r2, r1]);
      // Nothing is left to refund.
      const err = await refusedWith(refundOf(t, 1));
      expect(err).toBeInstanceOf(RefundExceedsAmount);
      expect(err).toMatchObject({ code: 'refund_exceeds_amount' });
      expect(await balance(a, tick())).toEqual(usd(1000, 0));
      expect(await balance(b, tick())).toEqual(usd(0, 0));
    });

    it('refuses more than what is left with RefundExceedsAmount, before looking at the balance', async () => {
      const [a, b] = [await newUser(), await newUser()];
      await fund(a, 1000);
      const t = await ledger.transfer(tx({ type: 'transfer', userId: a, toUserId: b, amount: 300 }));
      await ledger.refund({ refund: refundOf(t, 250), now: tick() });
      await ledger.withdraw(tx({ type: 'withdrawal', userId: b, amount: 50 }));
      expect(await refusedWith(refundOf(t, 51))).toBeInstanceOf(RefundExceedsAmount);
      expect(await balance(b, tick())).toEqual(usd(0, 0));
    });

    it('refuses a transfer refund the payee cannot cover (held money included) with InsufficientFunds and no effect; an expired hold of the payee gives its money back in the refund\'s step', async () => {
      const [a, b] = [await newUser(), await newUser()];
      await fund(a, 1000);
      const t = await ledger.transfer(tx({ type: 'transfer', userId: a, toUserId: b, amount: 300 }));
      await ledger.withdraw(tx({ type: 'withdrawal', userId: b, amount: 150 }));
      const h = await ledger.createHold(newHold({ userId: b, amount: 100 }));
      // 50 available: the held 100 is not the payee's to give back.
      expect(await refusedWith(refundOf(t, 51))).toBeInstanceOf(InsufficientFunds);
      expect(await refusedWith(refundOf(t, 51, after(h.expiresAt, -1)))).toBeInstanceOf(InsufficientFunds);
      expect(await balance(a, tick())).toEqual(usd(700, 0));
      expect(await balance(b, tick())).toEqual(usd(50, 100));
      expect(await ledger.listTransactions({ userId: a, limit: 10, type: 'refund' })).toEqual([]);
      const at = after(h.expiresAt, 1);
      await ledger.refund({ refund: refundOf(t, 150, at), now: at });
      expect(await ledger.getHold(h.id, tick())).toEqual({ ...h, status: 'expired', updatedAt: h.expiresAt });
      expect(await balance(b, tick())).toEqual(usd(0, 0));
      expect(await balance(a, tick())).toEqual(usd(850, 0));
    });

    it('refunds a withdrawal by crediting its owner back, refusing a credit the balance cannot hold', async () => {
      const u = await newUser();
      await fund(u, 1000);
      const w = await ledger.withdraw(tx({ type: 'withdrawal', userId: u, amount: 400 }));
      const now = tick();
      const r = refundOf(w, 150, now);
      expect(r).toMatchObject({ userId: u, status: 'completed' });
      expect(r.toUserId).toBeUndefined();
      expect(await ledger.refund({ refund: r, now })).toEqual(r);
      expect(await ledger.getTransaction(w.id)).toEqual({ ...w, refundedAmount: 150, updatedAt: now });
      expect(await balance(u, tick())).toEqual(usd(750, 0));
      expect(await ledger.listTransactions({ userId: u, limit: 10, type: 'refund' })).toEqual([r]);

      const full = await newUser();
      await fund(full, MAX_BALANCE);
      const w2 = await ledger.withdraw(tx({ type: 'withdrawal', userId: full, amount: 100 }));
      await fund(full, 99);
      expect(await refusedWith(refundOf(w2, 2))).toBeInstanceOf(BalanceOverflow);
      await ledger.refund({ refund: refundOf(w2, 1), now: tick() });
      expect(await balance(full, tick())).toEqual(usd(MAX_BALANCE, 0));
    });

    it('refunds a deposit as a pending debit of its owner: failing it credits back and restores refundedAmount, completing it moves nothing', async () => {
      const u = await newUser();
      const d = await fund(u, 1000);
      const now = tick();
      const r = refundOf(d, 300, now);
      expect(r).toMatchObject({ userId: u, status: 'pending' });
      expect(await ledger.refund({ refund: r, now })).toEqual(r);
      expect(await ledger.getTransaction(r.id)).toEqual(r);
      expect(await ledger.getTransaction(d.id)).toEqual({ ...d, refundedAmount: 300, updatedAt: now });
      expect(await balance(u, tick())).toEqual(usd(700, 0));
      expect(await ledger.listTransactions({ userId: u, limit: 10, type: 'refund', status: 'pending' })).toEqual([r]);
      // A pending refund counts: 700 is left to refund.
      expect(await refusedWith(refundOf(d, 701))).toBeInstanceOf(RefundExceedsAmount);

      const failedAt = tick();
      expect(await ledger.settle({ id: r.id, status: 'failed', now: failedAt })).toEqual({ ...r, status: 'failed', updatedAt: failedAt });
      expect(await ledger.getTransaction(d.id)).toEqual({ ...d, refundedAmount: 0, updatedAt: failedAt, status: 'completed' });
      expect(await balance(u, tick())).toEqual(usd(1000, 0));

      const r2 = refundOf(d, 1000);
      await ledger.refund({ refund: r2, now: r2.createdAt });
      expect(await balance(u, tick())).toEqual(usd(0, 0));
      const doneAt = tick();
      expect(await ledger.settle({ id: r2.id, status: 'completed', now: doneAt, metadata: { by: 'gateway' } }))
        .toEqual({ ...r2, status: 'completed', updatedAt: doneAt, metadata: { by: 'gateway' } });
      expect(await balance(u, tick())).toEqual(usd(0, 0));
      expect(await ledger.getTransaction(d.id)).toMatchObject({ status: 'completed', refundedAmount: 1000 });
      await expect(ledger.settle({ id: r2.id, status: 'failed', now: tick() })).rejects.toBeInstanceOf(InvalidStateTransition);
      await expect(ledger.settle({ id: r.id, status: 'completed', now: tick() })).rejects.toBeInstanceOf(InvalidStateTransition);
      expect(await balance(u, tick())).toEqual(usd(0, 0));
      expect(await ledger.listTransactions({ userId: u, limit: 10, type: 'refund' })).toEqual([
        { ...r2, status: 'completed', updatedAt: doneAt, metadata: { by: 'gateway' } },
        { ...r, status: 'failed', updatedAt: failedAt },
      ]);
    });

    it('refuses a deposit refund the owner has spent with InsufficientFunds and no effect', async () => {
      const u = await newUser();
      const d = await fund(u, 500);
      await ledger.withdraw(tx({ type: 'withdrawal', userId: u, amount: 400 }));
      expect(await refusedWith(refundOf(d, 101))).toBeInstanceOf(InsufficientFunds);
      expect(await balance(u, tick())).toEqual(usd(100, 0));
    });

    it('refuses to refund what cannot be refunded (InvalidStateTransition) and what does not exist (NotFound)', async () => {
      const [a, b] = [await newUser(), await newUser()];
      await fund(a, 1000);
      const pending = await ledger.createDeposit(tx({ type: 'deposit', userId: a, amount: 100 }));
      const failed = await ledger.createDeposit(tx({ type: 'deposit', userId: a, amount: 100 }));
      await ledger.settle({ id: failed.id, status: 'failed', now: tick() });
      const t = await ledger.transfer(tx({ type: 'transfer', userId: a, toUserId: b, amount: 300 }));
      const completedRefund = refundOf(t, 100);
      await ledger.refund({ refund: completedRefund, now: completedRefund.createdAt });
      const d = await fund(a, 200);
      const pendingRefund = refundOf(d, 100);
      await ledger.refund({ refund: pendingRefund, now: pendingRefund.createdAt });
      for (const original of [pending, failed, completedRefund, pendingRefund]) {
        expect(await refusedWith(refundOf(original, 10))).toBeInstanceOf(InvalidStateTransition);
      }
      const missing = await refusedWith(refundOf(tx({ type: 'transfer', userId: a, toUserId: b }), 10));
      expect(missing).toBeInstanceOf(NotFound);
      expect(missing).toMatchObject({ code: 'not_found' });
      expect(await balance(a, tick())).toEqual(usd(1000 - 300 + 100 + 200 - 100, 0));
      expect(await balance(b, tick())).toEqual(usd(200, 0));
    });

    it('records a completed refund for its key, links a pending one to the claim, and moves nothing for a key it does not hold', async () => {
      const [a, b] = [await newUser(), await newUser()];
      const d = await fund(a, 1000);
      const t = await ledger.transfer(tx({ type: 'transfer', userId: a, toUserId: b, amount: 300 }));
      const s = scope(b);
      await ledger.claimIdempotency(s, times());
      for (const key of [retryOf(s), scope(b)]) {
        expect(await refusal(ledger.refund({ refund: refundOf(t, 10), now: tick() }, key))).toBeInstanceOf(IdempotencyKeyInUse);
      }
      expect(await ledger.getTransaction(t.id)).toEqual(t);
      const r = refundOf(t, 100);
      await ledger.refund({ refund: r, now: r.createdAt }, s);
      expect(await ledger.claimIdempotency(retryOf(s), times())).toEqual({ kind: 'replay', outcome: { kind: 'transaction', transaction: r } });

      const s2 = scope(a);
      await ledger.claimIdempotency(s2, times());
      const pending = refundOf(d, 200);
      await ledger.refund({ refund: pending, now: pending.createdAt }, s2);
      // Still in flight (the gateway is asked next); a retry after a release resumes this refund.
      expect(await ledger.claimIdempotency(retryOf(s2), times())).toEqual({ kind: 'in_use' });
      await ledger.releaseIdempotency(s2);
      const resumed = retryOf(s2);
      expect(await ledger.claimIdempotency(resumed, times())).toEqual({ kind: 'claimed', transactionId: pending.id });
      // The gateway's answer settles it, recording the outcome for the key in the same step.
      const settled = await ledger.settle({ id: pending.id, status: 'completed', now: tick() }, resumed);
      expect(await ledger.claimIdempotency(retryOf(s2), times())).toEqual({ kind: 'replay', outcome: { kind: 'transaction', transaction: settled } });
      expect(await balance(a, tick())).toEqual(usd(1000 - 300 + 100 - 200, 0));
      expect(await balance(b, tick())).toEqual(usd(200, 0));
    });

    it('lists pending refunds created before a time, oldest first, bounded', async () => {
      const u = await newUser();
      const d = await fund(u, 1000);
      const [r1, r2] = [refundOf(d, 10), refundOf(d, 20)];
      for (const r of [r1, r2]) await ledger.refund({ refund: r, now: r.createdAt });
      const cutoff = tick();
      const late = refundOf(d, 30);
      await ledger.refund({ refund: late, now: late.createdAt });
      const settled = refundOf(d, 40, r1.createdAt);
      await ledger.refund({ refund: settled, now: tick() });
      await ledger.settle({ id: settled.id, status: 'completed', now: tick() });
      const listed = (await ledger.listPendingRefunds({ createdBefore: cutoff, limit: 10_000 })).filter((t) => t.userId === u);
      expect(listed).toEqual([r1, r2]);
      expect(await ledger.listPendingRefunds({ createdBefore: cutoff, limit: 1 })).toHaveLength(1);
      // Pending deposits and pending refunds are listed apart.
      const ids = (await ledger.listPendingDeposits({ createdBefore: tick(), limit: 10_000 })).map((t) => t.id);
      expect(ids).not.toContain(r1.id);
    });
  });
};
