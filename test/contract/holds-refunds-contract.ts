// The hold and refund cases of the storage contract (issue 18), which
// describeLedgerContract runs on every store. memory-ledger.ts is the reference: every
// store must answer exactly as it does. Times are explicit (`now`) wherever a hold's
// expiry could matter, so nothing depends on the wall clock.
import {
  BalanceOverflow, HoldExpired, HoldNotFound, IdempotencyKeyInUse, InsufficientFunds, InvalidStateTransition, NotFound,
} from '../../src/core/errors';
import type { Hold } from '../../src/core/hold';
import { MAX_BALANCE } from '../../src/core/money';
import type { Ledger } from '../../src/core/ports';
import { compareNewestFirst } from '../../src/core/transaction';
import {
  HOUR_MS, after, captureOf, newHold, newUserId, refusal, retryOf, scope, storeHelpers, tick, times, tx, usd, type Stores,
} from './contract-fixtures';
import { describeHoldAndRefundRaces } from './hold-refund-races';
import { describeRefundCases } from './refund-cases';

export const describeHoldAndRefundCases = (get: Stores): void => {
  describe('holds', () => {
    const { newUser, fund, balance } = storeHelpers(get);
    let ledger: Ledger;
    beforeAll(() => {
      ({ ledger } = get());
    });
    const capture = (h: Hold, amount = h.amount, now = tick()) =>
      ledger.captureHold({ holdId: h.id, transaction: captureOf(h, amount, now), now });

    describe('creating', () => {
      it('moves the amount from available to held and stores the hold as given', async () => {
        const [u, v] = [await newUser(), await newUser()];
        await fund(u, 1000);
        const h = newHold({ userId: u, toUserId: v, amount: 300, metadata: { order: '42' } });
        expect(await ledger.createHold(h)).toEqual(h);
        const now = tick();
        expect(await ledger.getHold(h.id, now)).toEqual(h);
        expect(await ledger.getBalances(u, now)).toEqual([usd(700, 300)]);
        // Nothing reaches the payee before a capture, and a hold is not a transaction.
        expect(await ledger.getBalances(v, now)).toEqual([]);
        expect(await ledger.listTransactions({ userId: u, limit: 10 })).toHaveLength(1);
        expect(await ledger.getTransaction(h.id)).toBeNull();
        expect(await ledger.getHold(newHold({ userId: u }).id, now)).toBeNull();
        // Held per currency.
        await fund(u, 50, 'EUR');
        await ledger.createHold(newHold({ userId: u, amount: 20, currency: 'EUR' }));
        expect(await ledger.getBalances(u, tick())).toEqual([{ currency: 'EUR', available: 30, held: 20 }, usd(700, 300)]);
      });

      it('refuses in order, with no effect: the payer\'s profile, the payee\'s (param toUserId), then the funds', async () => {
        const u = await newUser();
        await fund(u, 500);
        // Money on record for an id without a profile.
        const ghost = newUserId();
        await fund(ghost, 500);
        const refused = async (h: Hold): Promise<unknown> => {
          const err = await refusal(ledger.createHold(h));
          expect(await ledger.getHold(h.id, tick())).toBeNull();
          return err;
        };
        expect(await refused(newHold({ userId: ghost, toUserId: newUserId(), amount: 501 }))).toMatchObject({ code: 'not_found', param: undefined });
        expect(await refused(newHold({ userId: ghost, amount: 1 }))).toBeInstanceOf(NotFound);
        // A missing payee wins over missing funds, whichever id sorts first (lock order).
        const ghosts = [`a${newUserId()}`, `z${newUserId()}`];
        for (const to of ghosts) {
          const err = await refused(newHold({ userId: u, toUserId: to, amount: 501 }));
          expect(err).toBeInstanceOf(NotFound);
          expect(err).toMatchObject({ code: 'not_found', param: 'toUserId' });
        }
        expect(await refused(newHold({ userId: u, amount: 501 }))).toBeInstanceOf(InsufficientFunds);
        // Held money is not available for another hold.
        const kept = await ledger.createHold(newHold({ userId: u, amount: 400 }));
        expect(await refused(newHold({ userId: u, amount: 101 }))).toBeInstanceOf(InsufficientFunds);
        expect(await refused(newHold({ userId: u, amount: 1, currency: 'EUR' }))).toBeInstanceOf(InsufficientFunds);
        const now = tick();
        expect(await ledger.getBalances(u, now)).toEqual([usd(100, 400)]);
        expect(await ledger.getBalances(ghost, now)).toEqual([usd(500, 0)]);
        for (const to of ghosts) expect(await ledger.getBalances(to, now)).toEqual([]);
        expect(await ledger.listHolds({ userId: u, limit: 10, now })).toEqual([kept]);
        expect(await ledger.listHolds({ userId: ghost, limit: 10, now })).toEqual([]);
      });

      it('records the hold for its key in the same step; moves nothing for a key it does not hold', async () => {
        const u = await newUser();
        await fund(u, 500);
        const s = scope(u);
        await ledger.claimIdempotency(s, times());
        const h = newHold({ userId: u, amount: 200 });
        await ledger.createHold(h, s);
        expect(await ledger.claimIdempotency(retryOf(s), times())).toEqual({ kind: 'replay', outcome: { kind: 'hold', hold: h } });
        // In flight with another request's token, or never claimed.
        const other = scope(u);
        await ledger.claimIdempotency(other, times());
        for (const key of [retryOf(other), scope(u)]) {
          const stale = newHold({ userId: u, amount: 100 });
          await expect(ledger.createHold(stale, key)).rejects.toBeInstanceOf(IdempotencyKeyInUse);
          expect(await ledger.getHold(stale.id, tick())).toBeNull();
        }
        expect(await balance(u, tick())).toEqual(usd(300, 200));
        // A refusal records nothing: the key stays in flight with its request.
        await expect(ledger.createHold(newHold({ userId: u, amount: 301 }), other)).rejects.toBeInstanceOf(InsufficientFunds);
        expect(await ledger.claimIdempotency(retryOf(other), times())).toEqual({ kind: 'in_use' });
      });

      it('fast path: claims a new key inside the hold\'s own step, records the hold, and replays it', async () => {
        if (!ledger.claimsWithHold) return;
        const [u, v] = [await newUser(), await newUser()];
        await fund(u, 500);
        const s = scope(u);
        const h = newHold({ userId: u, toUserId: v, amount: 200, metadata: { order: '7' } });
        expect(await ledger.createHold(h, s, times())).toEqual(h);
        expect(await ledger.claimIdempotency(retryOf(s), times())).toEqual({ kind: 'replay', outcome: { kind: 'hold', hold: h } });
        expect(await ledger.claimIdempotency({ ...retryOf(s), fingerprint: 'another request' }, times())).toEqual({ kind: 'mismatch' });
        // Replayed as created, whatever happened to the hold since.
        await capture(h, 50);
        expect(await ledger.claimIdempotency(retryOf(s), times())).toEqual({ kind: 'replay', outcome: { kind: 'hold', hold: h } });
        expect(await balance(u, tick())).toEqual(usd(450, 0));
      });

      it('fast path: leaves a key that already has a record alone, and holds nothing', async () => {
        if (!ledger.claimsWithHold) return;
        const u = await newUser();
        await fund(u, 500);
        const done = scope(u);
        const h = await ledger.createHold(newHold({ userId: u, amount: 100 }), done, times());
        const inFlight = scope(u);
        await ledger.claimIdempotency(inFlight, times());
        for (const key of [retryOf(done), retryOf(inFlight)]) {
          const again = newHold({ userId: u, amount: 100 });
          await expect(ledger.createHold(again, key, times())).rejects.toBeInstanceOf(IdempotencyKeyInUse);
          expect(await ledger.getHold(again.id, tick())).toBeNull();
        }
        expect(await balance(u, tick())).toEqual(usd(400, 100));
        expect(await ledger.claimIdempotency(retryOf(done), times())).toEqual({ kind: 'replay', outcome: { kind: 'hold', hold: h } });
        expect(await ledger.claimIdempotency(retryOf(inFlight), times())).toEqual({ kind: 'in_use' });
      });

      it('fast path: a refused hold records no key', async () => {
        if (!ledger.claimsWithHold) return;
        const u = await newUser();
        await fund(u, 10);
        const s = scope(u);
        await expect(ledger.createHold(newHold({ userId: u, amount: 11 }), s, times())).rejects.toBeInstanceOf(InsufficientFunds);
        await expect(ledger.createHold(newHold({ userId: u, toUserId: newUserId(), amount: 1 }), s, times())).rejects.toMatchObject({ param: 'toUserId' });
        expect(await ledger.claimIdempotency(retryOf(s), times())).toEqual({ kind: 'claimed' });
        expect(await balance(u, tick())).toEqual(usd(10, 0));
      });

      it('fast path: exactly one of many concurrent holds with one new key takes effect', async () => {
        if (!ledger.claimsWithHold) return;
        const u = await newUser();
        await fund(u, 1000);
        const s = scope(u);
        const results = await Promise.allSettled(
          Array.from({ length: 20 }, () => ledger.createHold(newHold({ userId: u, amount: 10 }), retryOf(s), times())),
        );
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(IdempotencyKeyInUse);
        expect(await balance(u, tick())).toEqual(usd(990, 10));
      });
    });

    describe('capturing and voiding', () => {
      it('captures a whole hold: the held money goes to the payee as a transfer, in both histories', async () => {
        const [u, v] = [await newUser(), await newUser()];
        await fund(u, 1000);
        const h = await ledger.createHold(newHold({ userId: u, toUserId: v, amount: 300 }));
        const now = tick();
        const t = captureOf(h, 300, now);
        const captured = { ...h, status: 'captured', capturedAmount: 300, transactionId: t.id, updatedAt: now };
        expect(await ledger.captureHold({ holdId: h.id, transaction: t, now })).toEqual({ hold: captured, transaction: t });
        const later = tick();
        expect(await ledger.getHold(h.id, later)).toEqual(captured);
        // A captured hold never expires.
        expect(await ledger.getHold(h.id, after(h.expiresAt, 1))).toEqual(captured);
        expect(await ledger.getTransaction(t.id)).toEqual(t);
        expect(await ledger.getBalances(u, later)).toEqual([usd(700, 0)]);
        expect(await ledger.getBalances(v, later)).toEqual([usd(300, 0)]);
        expect(await ledger.listTransactions({ userId: u, limit: 10, type: 'transfer' })).toEqual([t]);
        expect(await ledger.listTransactions({ userId: v, limit: 10 })).toEqual([t]);
      });

      it('captures part of a hold: the rest returns to the payer\'s available', async () => {
        const [u, v] = [await newUser(), await newUser()];
        await fund(u, 1000);
        const h = await ledger.createHold(newHold({ userId: u, toUserId: v, amount: 300 }));
        const { hold, transaction } = await capture(h, 120);
        expect(hold).toMatchObject({ status: 'captured', capturedAmount: 120, transactionId: transaction.id, amount: 300 });
        expect(transaction).toMatchObject({ type: 'transfer', status: 'completed', amount: 120, holdId: h.id, userId: u, toUserId: v });
        const now = tick();
        expect(await balance(u, now)).toEqual(usd(880, 0));
        expect(await balance(v, now)).toEqual(usd(120, 0));
      });

      it('captures a hold without payee as a withdrawal: the captured money leaves the wallet', async () => {
        const u = await newUser();
        await fund(u, 1000);
        const h = await ledger.createHold(newHold({ userId: u, amount: 300 }));
        const now = tick();
        const t = captureOf(h, 200, now);
        expect(t.type).toBe('withdrawal');
        const { transaction } = await ledger.captureHold({ holdId: h.id, transaction: t, now });
        expect(transaction).toEqual(t);
        expect(await ledger.getTransaction(t.id)).toEqual(t);
        expect(await ledger.getBalances(u, tick())).toEqual([usd(800, 0)]);
        expect(await ledger.listTransactions({ userId: u, limit: 10, type: 'withdrawal' })).toEqual([t]);
      });

      it('refuses to capture a voided or captured hold (InvalidStateTransition) or an unknown one (HoldNotFound), with no effect', async () => {
        const [u, v] = [await newUser(), await newUser()];
        await fund(u, 1000);
        const voided = await ledger.createHold(newHold({ userId: u, toUserId: v, amount: 100 }));
        await ledger.voidHold({ holdId: voided.id, now: tick() });
        const captured = await ledger.createHold(newHold({ userId: u, toUserId: v, amount: 200 }));
        await capture(captured);
        for (const h of [voided, captured]) {
          const now = tick();
          const t = captureOf(h, 50, now);
          await expect(ledger.captureHold({ holdId: h.id, transaction: t, now })).rejects.toBeInstanceOf(InvalidStateTransition);
          expect(await ledger.getTransaction(t.id)).toBeNull();
        }
        const missing = newHold({ userId: u, toUserId: v });
        const now = tick();
        const t = captureOf(missing, 100, now);
        const err = await refusal(ledger.captureHold({ holdId: missing.id, transaction: t, now }));
        expect(err).toBeInstanceOf(HoldNotFound);
        expect(err).toBeInstanceOf(NotFound);
        expect(err).toMatchObject({ code: 'not_found' });
        expect(await ledger.getTransaction(t.id)).toBeNull();
        const later = tick();
        expect(await balance(u, later)).toEqual(usd(800, 0));
        expect(await balance(v, later)).toEqual(usd(200, 0));
        expect(await ledger.getHold(voided.id, later)).toMatchObject({ status: 'voided', capturedAmount: 0 });
        expect(await ledger.getHold(captured.id, later)).toMatchObject({ status: 'captured', capturedAmount: 200 });
      });

      it('refuses a capture the payee cannot hold with BalanceOverflow and no effect', async () => {
        const [u, v] = [await newUser(), await newUser()];
        await fund(u, 1000);
        await fund(v, MAX_BALANCE - 50);
        const h = await ledger.createHold(newHold({ userId: u, toUserId: v, amount: 100 }));
        const now = tick();
        const t = captureOf(h, 51, now);
        await expect(ledger.captureHold({ holdId: h.id, transaction: t, now })).rejects.toBeInstanceOf(BalanceOverflow);
        expect(await ledger.getTransaction(t.id)).toBeNull();
        expect(await ledger.getHold(h.id, tick())).toEqual(h);
        expect(await balance(u, tick())).toEqual(usd(900, 100));
        await capture(h, 50);
        expect(await balance(v, tick())).toEqual(usd(MAX_BALANCE, 0));
        expect(await balance(u, tick())).toEqual(usd(950, 0));
      });

      it('refuses to capture or void at or after the expiry with HoldExpired, released or not, moving nothing', async () => {
        const [u, v] = [await newUser(), await newUser()];
        await fund(u, 1000);
        const h = await ledger.createHold(newHold({ userId: u, toUserId: v, amount: 300 }));
        for (const now of [h.expiresAt, after(h.expiresAt, 1)]) {
          const t = captureOf(h, 300, now);
          await expect(ledger.captureHold({ holdId: h.id, transaction: t, now })).rejects.toBeInstanceOf(HoldExpired);
          await expect(ledger.voidHold({ holdId: h.id, now })).rejects.toBeInstanceOf(HoldExpired);
          expect(await ledger.getTransaction(t.id)).toBeNull();
          expect(await ledger.getBalances(u, now)).toEqual([usd(1000, 0)]);
          expect(await ledger.getBalances(v, now)).toEqual([]);
        }
        // Released by a movement of the payer: still HoldExpired, not InvalidStateTransition.
        await ledger.withdraw(tx({ type: 'withdrawal', userId: u, amount: 1000, createdAt: after(h.expiresAt, 2) }));
        const now = after(h.expiresAt, 3);
        await expect(ledger.captureHold({ holdId: h.id, transaction: captureOf(h, 300, now), now })).rejects.toBeInstanceOf(HoldExpired);
        await expect(ledger.voidHold({ holdId: h.id, now })).rejects.toBeInstanceOf(HoldExpired);
        // Just before its expiry, a hold is still captured.
        await fund(u, 100);
        const last = await ledger.createHold(newHold({ userId: u, toUserId: v, amount: 100, createdAt: now, expiresAt: after(now, 10) }));
        expect((await capture(last, 100, after(last.expiresAt, -1))).hold.status).toBe('captured');
        expect(await balance(v, after(now, 20))).toEqual(usd(100, 0));
      });

      it('voids a hold: all of it returns; a second void, or a capture after it, is InvalidStateTransition', async () => {
        const [u, v] = [await newUser(), await newUser()];
        await fund(u, 1000);
        const h = await ledger.createHold(newHold({ userId: u, toUserId: v, amount: 300 }));
        const now = tick();
        const voided = { ...h, status: 'voided', updatedAt: now };
        expect(await ledger.voidHold({ holdId: h.id, now })).toEqual(voided);
        expect(await ledger.getHold(h.id, tick())).toEqual(voided);
        // A voided hold never expires.
        expect(await ledger.getHold(h.id, after(h.expiresAt, 1))).toEqual(voided);
        await expect(ledger.voidHold({ holdId: h.id, now: tick() })).rejects.toBeInstanceOf(InvalidStateTransition);
        const later = tick();
        const t = captureOf(h, 300, later);
        await expect(ledger.captureHold({ holdId: h.id, transaction: t, now: later })).rejects.toBeInstanceOf(InvalidStateTransition);
        expect(await ledger.getTransaction(t.id)).toBeNull();
        // And a void after a capture.
        const c = await ledger.createHold(newHold({ userId: u, toUserId: v, amount: 100 }));
        await capture(c);
        await expect(ledger.voidHold({ holdId: c.id, now: tick() })).rejects.toBeInstanceOf(InvalidStateTransition);
        await expect(ledger.voidHold({ holdId: newHold({ userId: u }).id, now: tick() })).rejects.toBeInstanceOf(HoldNotFound);
        expect(await balance(u, tick())).toEqual(usd(900, 0));
        expect(await balance(v, tick())).toEqual(usd(100, 0));
      });

      it('records a void and a capture for their keys in the same step; moves nothing for a key it does not hold', async () => {
        const [u, v] = [await newUser(), await newUser()];
        await fund(u, 1000);
        const [h1, h2] = [await ledger.createHold(newHold({ userId: u, toUserId: v, amount: 100 })), await ledger.createHold(newHold({ userId: u, toUserId: v, amount: 200 }))];
        const s1 = scope(v);
        await ledger.claimIdempotency(s1, times());
        // Another request's token, then a key never claimed: nothing changes.
        for (const key of [retryOf(s1), scope(v)]) {
          const now = tick();
          const t = captureOf(h2, 200, now);
          await expect(ledger.captureHold({ holdId: h2.id, transaction: t, now }, key)).rejects.toBeInstanceOf(IdempotencyKeyInUse);
          await expect(ledger.voidHold({ holdId: h1.id, now }, key)).rejects.toBeInstanceOf(IdempotencyKeyInUse);
          expect(await ledger.getTransaction(t.id)).toBeNull();
        }
        expect(await ledger.listHolds({ userId: u, limit: 10, now: tick(), status: 'held' })).toHaveLength(2);
        const voided = await ledger.voidHold({ holdId: h1.id, now: tick() }, s1);
        expect(await ledger.claimIdempotency(retryOf(s1), times())).toEqual({ kind: 'replay', outcome: { kind: 'hold', hold: voided } });
        const s2 = scope(v);
        await ledger.claimIdempotency(s2, times());
        const now = tick();
        const { transaction } = await ledger.captureHold({ holdId: h2.id, transaction: captureOf(h2, 150, now), now }, s2);
        expect(await ledger.claimIdempotency(retryOf(s2), times())).toEqual({ kind: 'replay', outcome: { kind: 'transaction', transaction } });
        expect(await balance(u, tick())).toEqual(usd(850, 0));
      });

      it('refuses a capture whose transaction names another payer, payee or currency (a caller\'s bug), with no effect', async () => {
        const [u, v, w] = [await newUser(), await newUser(), await newUser()];
        await fund(u, 1000);
        await fund(w, 1000);
        const h = await ledger.createHold(newHold({ userId: u, toUserId: v, amount: 300 }));
        const bare = await ledger.createHold(newHold({ userId: u, amount: 100 }));
        const now = tick();
        const t = captureOf(h, 100, now);
        const { toUserId: _payee, ...withdrawal } = t;
        for (const [holdId, wrong] of [
          [h.id, { ...t, userId: w }], [h.id, { ...t, toUserId: w }], [h.id, withdrawal], [h.id, { ...t, currency: 'EUR' as const }],
          [bare.id, { ...captureOf(bare, 50, now), toUserId: v }],
        ] as const) {
          await expect(ledger.captureHold({ holdId, transaction: wrong, now })).rejects.toThrow(/payer, payee and currency/);
          expect(await ledger.getTransaction(wrong.id)).toBeNull();
        }
        const later = tick();
        expect(await ledger.getHold(h.id, later)).toEqual(h);
        expect(await ledger.getHold(bare.id, later)).toEqual(bare);
        expect(await balance(u, later)).toEqual(usd(600, 400));
        expect(await ledger.getBalances(v, later)).toEqual([]);
        expect(await balance(w, later)).toEqual(usd(1000, 0));
      });

      it('fast path: claims a new key inside the capture\'s own step, records the capture, and replays it', async () => {
        if (!ledger.claimsWithCapture) return;
        const [u, v] = [await newUser(), await newUser()];
        await fund(u, 500);
        const h = await ledger.createHold(newHold({ userId: u, toUserId: v, amount: 200 }));
        const s = scope(v);
        const now = tick();
        const t = captureOf(h, 150, now);
        const captured = { ...h, status: 'captured', capturedAmount: 150, transactionId: t.id, updatedAt: now };
        expect(await ledger.captureHold({ holdId: h.id, transaction: t, now }, s, times())).toEqual({ hold: captured, transaction: t });
        expect(await ledger.claimIdempotency(retryOf(s), times())).toEqual({ kind: 'replay', outcome: { kind: 'transaction', transaction: t } });
        expect(await ledger.claimIdempotency({ ...retryOf(s), fingerprint: 'another request' }, times())).toEqual({ kind: 'mismatch' });
        expect(await balance(u, tick())).toEqual(usd(350, 0));
        expect(await balance(v, tick())).toEqual(usd(150, 0));
      });

      it('fast path: leaves a key that already has a record alone, and captures nothing', async () => {
        if (!ledger.claimsWithCapture) return;
        const [u, v] = [await newUser(), await newUser()];
        await fund(u, 500);
        const [h1, h2] = [await ledger.createHold(newHold({ userId: u, toUserId: v, amount: 100 })), await ledger.createHold(newHold({ userId: u, toUserId: v, amount: 200 }))];
        const done = scope(v);
        const first = tick();
        const { transaction } = await ledger.captureHold({ holdId: h1.id, transaction: captureOf(h1, 100, first), now: first }, done, times());
        const inFlight = scope(v);
        await ledger.claimIdempotency(inFlight, times());
        for (const key of [retryOf(done), retryOf(inFlight)]) {
          const now = tick();
          const t = captureOf(h2, 200, now);
          await expect(ledger.captureHold({ holdId: h2.id, transaction: t, now }, key, times())).rejects.toBeInstanceOf(IdempotencyKeyInUse);
          expect(await ledger.getTransaction(t.id)).toBeNull();
        }
        expect(await ledger.getHold(h2.id, tick())).toEqual(h2);
        expect(await balance(u, tick())).toEqual(usd(200, 200));
        expect(await ledger.claimIdempotency(retryOf(done), times())).toEqual({ kind: 'replay', outcome: { kind: 'transaction', transaction } });
        expect(await ledger.claimIdempotency(retryOf(inFlight), times())).toEqual({ kind: 'in_use' });
      });

      it('fast path: a refused capture records no key', async () => {
        if (!ledger.claimsWithCapture) return;
        const [u, v] = [await newUser(), await newUser()];
        await fund(u, 500);
        const h = await ledger.createHold(newHold({ userId: u, toUserId: v, amount: 200 }));
        await ledger.voidHold({ holdId: h.id, now: tick() });
        const s = scope(v);
        const now = tick();
        await expect(ledger.captureHold({ holdId: h.id, transaction: captureOf(h, 100, now), now }, s, times())).rejects.toBeInstanceOf(InvalidStateTransition);
        const missing = newHold({ userId: u, toUserId: v });
        await expect(ledger.captureHold({ holdId: missing.id, transaction: captureOf(missing, 100, now), now }, s, times())).rejects.toBeInstanceOf(HoldNotFound);
        expect(await ledger.claimIdempotency(retryOf(s), times())).toEqual({ kind: 'claimed' });
        expect(await balance(u, tick())).toEqual(usd(500, 0));
      });

      it('fast path: exactly one of many concurrent captures with one new key takes effect', async () => {
        if (!ledger.claimsWithCapture) return;
        const [u, v] = [await newUser(), await newUser()];
        await fund(u, 1000);
        const holds = await Promise.all(Array.from({ length: 20 }, () => ledger.createHold(newHold({ userId: u, toUserId: v, amount: 10 }))));
        const s = scope(v);
        const now = tick();
        const results = await Promise.allSettled(
          holds.map((h) => ledger.captureHold({ holdId: h.id, transaction: captureOf(h, 10, now), now }, retryOf(s), times())),
        );
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(IdempotencyKeyInUse);
        expect(await balance(u, tick())).toEqual(usd(800, 190));
        expect(await balance(v, tick())).toEqual(usd(10, 0));
      });
    });

    describe('expiry', () => {
      it('reads a hold past its expiry as expired and its money as available, writing nothing', async () => {
        const [u, v] = [await newUser(), await newUser()];
        await fund(u, 1000);
        const h = await ledger.createHold(newHold({ userId: u, toUserId: v, amount: 300 }));
        const live = await ledger.createHold(newHold({ userId: u, amount: 100, expiresAt: after(h.expiresAt, HOUR_MS) }));
        const before = after(h.expiresAt, -1);
        expect(await ledger.getHold(h.id, before)).toEqual(h);
        expect(await ledger.getBalances(u, before)).toEqual([usd(600, 400)]);
        const expired = { ...h, status: 'expired', updatedAt: h.expiresAt };
        for (const now of [h.expiresAt, after(h.expiresAt, 1000)]) {
          expect(await ledger.getHold(h.id, now)).toEqual(expired);
          expect(await ledger.getBalances(u, now)).toEqual([usd(900, 100)]);
          expect(await ledger.listHolds({ userId: u, limit: 10, now })).toEqual([live, expired]);
          expect(await ledger.listHolds({ userId: u, limit: 10, now, status: 'expired' })).toEqual([expired]);
          expect(await ledger.listHolds({ userId: u, limit: 10, now, status: 'held' })).toEqual([live]);
        }
        // Nothing was written: just before the expiry it is still held.
        expect(await ledger.getHold(h.id, before)).toEqual(h);
        expect(await ledger.getBalances(u, before)).toEqual([usd(600, 400)]);
        expect(await ledger.listHolds({ userId: u, limit: 10, now: before, status: 'held' })).toEqual([live, h]);
      });

      it('lets a withdrawal, transfer or hold of the payer spend the money of expired holds, releasing them in its step', async () => {
        for (const kind of ['withdrawal', 'transfer', 'hold'] as const) {
          const [u, v] = [await newUser(), await newUser()];
          await fund(u, 1000);
          const h = await ledger.createHold(newHold({ userId: u, toUserId: v, amount: 600 }));
          const before = after(h.expiresAt, -1);
          const at = after(h.expiresAt, 5);
          await expect(ledger.withdraw(tx({ type: 'withdrawal', userId: u, amount: 1000, createdAt: before }))).rejects.toBeInstanceOf(InsufficientFunds);
          if (kind === 'withdrawal') await ledger.withdraw(tx({ type: 'withdrawal', userId: u, amount: 1000, createdAt: at }));
          if (kind === 'transfer') await ledger.transfer(tx({ type: 'transfer', userId: u, toUserId: v, amount: 1000, createdAt: at }));
          if (kind === 'hold') await ledger.createHold(newHold({ userId: u, amount: 1000, createdAt: at }));
          // Released for good: it reads as expired (at its expiry) even before its expiry.
          expect(await ledger.getHold(h.id, before)).toEqual({ ...h, status: 'expired', updatedAt: h.expiresAt });
          const left = usd(0, kind === 'hold' ? 1000 : 0);
          expect(await ledger.getBalances(u, before)).toEqual([left]);
          expect(await ledger.getBalances(u, at)).toEqual([left]);
          expect(await ledger.getBalances(v, at)).toEqual(kind === 'transfer' ? [usd(1000, 0)] : []);
        }
      });

      it('releases expired holds in bounded batches, oldest expiry first, each once', async () => {
        const u = await newUser();
        await fund(u, 1000);
        // Later than any other case's hold expires, so that only these are due.
        const base = after(tick(), 10 * 24 * HOUR_MS);
        const [c, b, a] = [
          await ledger.createHold(newHold({ userId: u, amount: 100, expiresAt: after(base, 3) })),
          await ledger.createHold(newHold({ userId: u, amount: 100, expiresAt: after(base, 2) })),
          await ledger.createHold(newHold({ userId: u, amount: 100, expiresAt: after(base, 1) })),
        ];
        const d = await ledger.createHold(newHold({ userId: u, amount: 100, expiresAt: after(base, 10 * 24 * HOUR_MS) }));
        // Every earlier case's expired holds first (a store may hold many).
        for (let batches = 0; batches < 100 && (await ledger.releaseExpiredHolds({ now: base, limit: 1000 })) > 0; batches++);
        const now = after(base, 3);
        expect(await ledger.releaseExpiredHolds({ now, limit: 2 })).toBe(2);
        // Read before any of them expires, a hold shows what is stored.
        const early = after(base, -1);
        const released = (h: Hold) => ({ ...h, status: 'expired', updatedAt: h.expiresAt });
        expect(await ledger.getHold(a.id, early)).toEqual(released(a));
        expect(await ledger.getHold(b.id, early)).toEqual(released(b));
        expect(await ledger.getHold(c.id, early)).toEqual(c);
        expect(await ledger.getBalances(u, early)).toEqual([usd(800, 200)]);
        expect(await ledger.releaseExpiredHolds({ now, limit: 10 })).toBe(1);
        expect(await ledger.releaseExpiredHolds({ now, limit: 10 })).toBe(0);
        expect(await ledger.getHold(c.id, early)).toEqual(released(c));
        expect(await ledger.getHold(d.id, early)).toEqual(d);
        expect(await ledger.getBalances(u, early)).toEqual([usd(900, 100)]);
        expect(await ledger.getBalances(u, now)).toEqual([usd(900, 100)]);
      });
    });

    describe('listing', () => {
      it('lists the holds a user pays, newest first by (createdAt, id), paged and filtered by status', async () => {
        const [u, v] = [await newUser(), await newUser()];
        await fund(u, 10_000);
        await fund(v, 1000);
        const sameMs = tick();
        const made: Hold[] = [];
        for (let i = 0; i < 4; i++) made.push(await ledger.createHold(newHold({ userId: u, toUserId: v, amount: 10, createdAt: sameMs })));
        for (let i = 0; i < 4; i++) made.push(await ledger.createHold(newHold({ userId: u, amount: 10 })));
        const own = await ledger.createHold(newHold({ userId: v, toUserId: u, amount: 5 }));
        const voided = await ledger.voidHold({ holdId: (made[1] as Hold).id, now: tick() });
        const { hold: captured } = await capture(made[5] as Hold, 7);
        const now = tick();
        const current = made.map((h) => (h.id === voided.id ? voided : h.id === captured.id ? captured : h)).sort(compareNewestFirst);
        expect(await ledger.listHolds({ userId: u, limit: 100, now })).toEqual(current);
        const seen: Hold[] = [];
        let before: { createdAt: string; id: string } | undefined;
        for (;;) {
          const page = await ledger.listHolds({ userId: u, limit: 3, now, ...(before && { before }) });
          seen.push(...page);
          const last = page[page.length - 1];
          if (page.length < 3 || !last) break;
          before = { createdAt: last.createdAt, id: last.id };
        }
        expect(seen).toEqual(current);
        expect(await ledger.listHolds({ userId: u, limit: 100, now, status: 'voided' })).toEqual([voided]);
        expect(await ledger.listHolds({ userId: u, limit: 100, now, status: 'captured' })).toEqual([captured]);
        expect(await ledger.listHolds({ userId: u, limit: 100, now, status: 'held' })).toEqual(current.filter((h) => h.status === 'held'));
        expect(await ledger.listHolds({ userId: u, limit: 100, now, status: 'expired' })).toEqual([]);
        expect(await ledger.listHolds({ userId: u, limit: 2, now, status: 'held' })).toHaveLength(2);
        // Only the holds a user pays: v is the payee of four of them.
        expect(await ledger.listHolds({ userId: v, limit: 100, now })).toEqual([own]);
        expect(await ledger.listHolds({ userId: newUserId(), limit: 100, now })).toEqual([]);
      });
    });
  });

  describeRefundCases(get);
  describeHoldAndRefundRaces(get);
};
