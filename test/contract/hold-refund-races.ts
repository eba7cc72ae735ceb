// The concurrency guarantees of holds and refunds (part of the storage contract, see
// holds-refunds-contract.ts): what the issue promises under any interleaving.
import { HoldExpired, InsufficientFunds, InvalidStateTransition, RefundExceedsAmount } from '../../src/core/errors';
import type { Hold } from '../../src/core/hold';
import type { Ledger } from '../../src/core/ports';
import type { Transaction } from '../../src/core/transaction';
import { after, captureOf, newHold, refundOf, storeHelpers, tick, tx, usd, type Stores } from './contract-fixtures';

const fulfilled = <T>(results: PromiseSettledResult<T>[]): T[] =>
  results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
const reasons = (results: PromiseSettledResult<unknown>[]): unknown[] =>
  results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));

export const describeHoldAndRefundRaces = (get: Stores): void => {
  describe('holds and refunds under concurrency', () => {
    const { newUser, fund, balance } = storeHelpers(get);
    let ledger: Ledger;
    beforeAll(() => {
      ({ ledger } = get());
    });
    const capture = (h: Hold, amount = h.amount, now = tick()) =>
      ledger.captureHold({ holdId: h.id, transaction: captureOf(h, amount, now), now });

    /**
     * Per user, as of `now`: available never below zero, and held exactly the sum of
     * the live holds they pay. Returns the sum of available + held over `users`.
     */
    const checkedTotal = async (users: string[], now: string): Promise<number> => {
      let total = 0;
      for (const u of users) {
        const b = (await balance(u, now)) ?? usd(0, 0);
        expect(b.available).toBeGreaterThanOrEqual(0);
        const live = await ledger.listHolds({ userId: u, limit: 1000, now, status: 'held' });
        expect(b.held).toBe(live.reduce((s, h) => s + h.amount, 0));
        total += b.available + b.held;
      }
      return total;
    };

    it('lets exactly one of many concurrent captures and voids of one hold win', async () => {
      const [u, v] = [await newUser(), await newUser()];
      await fund(u, 1000);
      const h = await ledger.createHold(newHold({ userId: u, toUserId: v, amount: 300 }));
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) => (i % 2 ? capture(h, 100 + i) : ledger.voidHold({ holdId: h.id, now: tick() }))),
      );
      expect(fulfilled(results)).toHaveLength(1);
      for (const e of reasons(results)) expect(e).toBeInstanceOf(InvalidStateTransition);
      const now = tick();
      const final = await ledger.getHold(h.id, now);
      const moved = final?.status === 'captured' ? final.capturedAmount : 0;
      expect(final?.status === 'voided' || moved > 100).toBe(true);
      expect(await balance(u, now)).toEqual(usd(1000 - moved, 0));
      expect(await ledger.getBalances(v, now)).toEqual(moved ? [usd(moved, 0)] : []);
      expect(await ledger.listTransactions({ userId: v, limit: 10 })).toHaveLength(moved ? 1 : 0);
    });

    it('lets exactly one of a capture, a void and the expiry of one hold win', async () => {
      for (let round = 0; round < 5; round++) {
        const [u, v] = [await newUser(), await newUser()];
        await fund(u, 1000);
        const h = await ledger.createHold(newHold({ userId: u, toUserId: v, amount: 300, expiresAt: after(tick(), 20) }));
        const justBefore = after(h.expiresAt, -1);
        const [captured, voided] = await Promise.allSettled([
          capture(h, 300, justBefore),
          ledger.voidHold({ holdId: h.id, now: justBefore }),
          ledger.releaseExpiredHolds({ now: h.expiresAt, limit: 1000 }),
        ]);
        // What is stored (read before the expiry, nothing is computed).
        const final = await ledger.getHold(h.id, justBefore);
        const outcome = { captured: captured?.status, voided: voided?.status, hold: final?.status };
        if (final?.status === 'expired') {
          expect(outcome).toEqual({ captured: 'rejected', voided: 'rejected', hold: 'expired' });
          for (const r of [captured, voided]) expect(r?.status === 'rejected' && r.reason).toBeInstanceOf(HoldExpired);
        } else {
          expect([{ captured: 'fulfilled', voided: 'rejected', hold: 'captured' }, { captured: 'rejected', voided: 'fulfilled', hold: 'voided' }]).toContainEqual(outcome);
          const loser = final?.status === 'captured' ? voided : captured;
          expect(loser?.status === 'rejected' && loser.reason).toBeInstanceOf(InvalidStateTransition);
        }
        const moved = final?.status === 'captured' ? 300 : 0;
        expect(await balance(u, h.expiresAt)).toEqual(usd(1000 - moved, 0));
        expect(await ledger.getBalances(v, h.expiresAt)).toEqual(moved ? [usd(moved, 0)] : []);
      }
    });

    it('lets exactly one of a capture and a movement of the payer that releases the expired hold win', async () => {
      for (let round = 0; round < 5; round++) {
        const [u, v] = [await newUser(), await newUser()];
        await fund(u, 1000);
        const h = await ledger.createHold(newHold({ userId: u, toUserId: v, amount: 300, expiresAt: after(tick(), 20) }));
        const justBefore = after(h.expiresAt, -1);
        // All of the payer's money: only there once the hold is released.
        const [captured, withdrawn] = await Promise.allSettled([
          capture(h, 300, justBefore),
          ledger.withdraw(tx({ type: 'withdrawal', userId: u, amount: 1000, createdAt: h.expiresAt })),
        ]);
        const final = await ledger.getHold(h.id, justBefore);
        if (final?.status === 'captured') {
          expect(captured?.status).toBe('fulfilled');
          expect(withdrawn?.status === 'rejected' && withdrawn.reason).toBeInstanceOf(InsufficientFunds);
          expect(await balance(u, h.expiresAt)).toEqual(usd(700, 0));
          expect(await balance(v, h.expiresAt)).toEqual(usd(300, 0));
        } else {
          expect(final?.status).toBe('expired');
          expect(captured?.status === 'rejected' && captured.reason).toBeInstanceOf(HoldExpired);
          expect(withdrawn?.status).toBe('fulfilled');
          expect(await balance(u, h.expiresAt)).toEqual(usd(0, 0));
          expect(await ledger.getBalances(v, h.expiresAt)).toEqual([]);
        }
      }
    });

    it('never lets concurrent partial refunds take back more than the original', async () => {
      const [a, b] = [await newUser(), await newUser()];
      await fund(a, 1000);
      const t = await ledger.transfer(tx({ type: 'transfer', userId: a, toUserId: b, amount: 100 }));
      const results = await Promise.allSettled(Array.from({ length: 10 }, () => {
        const now = tick();
        return ledger.refund({ refund: refundOf(t, 30, now), now });
      }));
      expect(fulfilled(results)).toHaveLength(3);
      for (const e of reasons(results)) expect(e).toBeInstanceOf(RefundExceedsAmount);
      expect(await ledger.getTransaction(t.id)).toMatchObject({ status: 'completed', refundedAmount: 90 });
      expect(await balance(a, tick())).toEqual(usd(990, 0));
      expect(await balance(b, tick())).toEqual(usd(10, 0));
      expect(await ledger.listTransactions({ userId: a, limit: 100, type: 'refund' })).toHaveLength(3);

      // Amounts of every size against a withdrawal: whatever wins, the sum stays within it.
      const u = await newUser();
      await fund(u, 1000);
      const w = await ledger.withdraw(tx({ type: 'withdrawal', userId: u, amount: 100 }));
      const mixed = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => {
        const now = tick();
        return ledger.refund({ refund: refundOf(w, i + 1, now), now });
      }));
      const refunded = fulfilled(mixed).reduce((s, r: Transaction) => s + r.amount, 0);
      expect(refunded).toBeLessThanOrEqual(100);
      expect((await ledger.getTransaction(w.id))?.refundedAmount).toBe(refunded);
      expect(await balance(u, tick())).toEqual(usd(900 + refunded, 0));
      for (const e of reasons(mixed)) expect(e).toBeInstanceOf(RefundExceedsAmount);
      // Each refusal was for more than was left then, and what is left only shrinks.
      const smallestRefused = Math.min(...mixed.flatMap((r, i) => (r.status === 'rejected' ? [i + 1] : [])));
      expect(100 - refunded).toBeLessThan(smallestRefused);
    });

    it('never overdraws with concurrent holds: held is the sum of the live holds', async () => {
      const [u, v] = [await newUser(), await newUser()];
      await fund(u, 1000);
      const results = await Promise.allSettled(Array.from({ length: 30 }, (_, i) =>
        ledger.createHold(newHold({ userId: u, amount: 70, ...(i % 2 ? { toUserId: v } : {}) }))));
      expect(fulfilled(results)).toHaveLength(14);
      for (const e of reasons(results)) expect(e).toBeInstanceOf(InsufficientFunds);
      const now = tick();
      expect(await balance(u, now)).toEqual(usd(20, 980));
      expect(await ledger.listHolds({ userId: u, limit: 100, now })).toHaveLength(14);
      expect(await checkedTotal([u], now)).toBe(1000);
    });

    it('conserves money under concurrent holds, captures, voids, transfers and refunds', async () => {
      const users: string[] = [];
      for (let i = 0; i < 6; i++) users.push(await newUser());
      for (const u of users) await fund(u, 1000);
      const pick = (i: number): string => users[i % users.length] as string;
      const start = tick();
      expect(await checkedTotal(users, start)).toBe(6000);

      // Holds (every third without payee) racing transfers among the same users.
      const round1 = await Promise.allSettled([
        ...Array.from({ length: 30 }, (_, i) => ledger.createHold(newHold({
          userId: pick(i), amount: 50 + (i % 7) * 40, ...(i % 3 ? { toUserId: pick(i + 1 + (i % 4)) } : {}),
        }))),
        ...Array.from({ length: 20 }, (_, i) => ledger.transfer(tx({ type: 'transfer', userId: pick(i), toUserId: pick(i + 2), amount: 30 + i * 11 }))),
      ]);
      for (const e of reasons(round1)) expect(e).toBeInstanceOf(InsufficientFunds);
      const made = fulfilled(round1);
      const holds = made.filter((x): x is Hold => 'capturedAmount' in x);
      const transfers = made.filter((x): x is Transaction => !('capturedAmount' in x));
      expect(await checkedTotal(users, tick())).toBe(6000);

      // Captures (some partial), voids, a second attempt at each, refunds of the transfers, more transfers.
      const round2 = await Promise.allSettled([
        ...holds.flatMap((h, i) => [
          i % 3 === 1 ? ledger.voidHold({ holdId: h.id, now: tick() }) : capture(h, i % 3 ? h.amount : Math.ceil(h.amount / 2)),
          i % 2 ? ledger.voidHold({ holdId: h.id, now: tick() }) : capture(h),
        ]),
        ...transfers.map((t) => {
          const now = tick();
          return ledger.refund({ refund: refundOf(t, Math.ceil(t.amount / 2), now), now });
        }),
        ...Array.from({ length: 10 }, (_, i) => ledger.transfer(tx({ type: 'transfer', userId: pick(i + 3), toUserId: pick(i), amount: 25 + i }))),
      ]);
      for (const e of reasons(round2)) expect([InvalidStateTransition.name, InsufficientFunds.name]).toContain((e as Error).name);
      const captures = fulfilled(round2).flatMap((x) => ('transaction' in x ? [x.transaction] : []));
      // Of the two attempts at each hold, exactly one won.
      const now = tick();
      for (const h of holds) expect(['captured', 'voided']).toContain((await ledger.getHold(h.id, now))?.status);
      expect(captures.length + fulfilled(round2).filter((x) => 'status' in x && x.status === 'voided').length).toBe(holds.length);
      const withdrawn = captures.filter((t) => t.type === 'withdrawal');
      const out = withdrawn.reduce((s, t) => s + t.amount, 0);
      expect(await checkedTotal(users, now)).toBe(6000 - out);

      // Withdrawal refunds bring money in; a capture of a transfer refunded moves it between users.
      const round3 = await Promise.allSettled([
        ...withdrawn.map((t) => {
          const at = tick();
          return ledger.refund({ refund: refundOf(t, 10, at), now: at });
        }),
        ...captures.filter((t) => t.type === 'transfer').map((t) => {
          const at = tick();
          return ledger.refund({ refund: refundOf(t, 5, at), now: at });
        }),
      ]);
      for (const e of reasons(round3)) expect(e).toBeInstanceOf(InsufficientFunds);
      const back = fulfilled(round3).filter((r) => withdrawn.some((w) => w.id === r.refundOf)).reduce((s, r) => s + r.amount, 0);
      expect(back).toBe(withdrawn.length * 10);
      expect(await checkedTotal(users, tick())).toBe(6000 - out + back);
    });
  });
};
