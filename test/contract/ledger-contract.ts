// The shared contract suite for the storage ports. Every adapter runs these exact
// cases: `describeLedgerContract('postgres', makePostgresFixture)`. Each case uses
// fresh random user ids, so it runs against a non-empty store; but the store must be
// the run's own (a fresh database, key prefix or state): releaseExpiredHolds works on
// every payer at once. The hold and refund cases are in holds-refunds-contract.ts.
import {
  BalanceOverflow, IdempotencyKeyInUse, InsufficientFunds, InvalidStateTransition, NotFound, UserExists,
} from '../../src/core/errors';
import { MAX_BALANCE } from '../../src/core/money';
import type { Ledger, UserStore } from '../../src/core/ports';
import type { Transaction } from '../../src/core/transaction';
import { uuidv7 } from '../../src/adapters/system/system-clock';
import { newUserId, refundOf, retryOf, scope, storeHelpers, tick, times, tx, type StorageFixture } from './contract-fixtures';
import { describeHoldAndRefundCases } from './holds-refunds-contract';
import { describeClaimCases } from './idempotency-claim-cases';

export type { StorageFixture } from './contract-fixtures';

export const describeLedgerContract = (name: string, makeFixture: () => Promise<StorageFixture>): void => {
  describe(`storage contract: ${name}`, () => {
    let f: StorageFixture;
    let ledger: Ledger;
    let users: UserStore;

    beforeAll(async () => {
      f = await makeFixture();
      ({ ledger, users } = f);
    });
    afterAll(async () => {
      await f?.close?.();
    });

    describeClaimCases(() => ({ ledger, users }));

    const { newUser, fund, available } = storeHelpers(() => ({ ledger, users }));

    describe('users', () => {
      it('creates and reads a profile, refusing a second one for the same id', async () => {
        const id = newUserId();
        const profile = { id, email: 'a@example.com', name: 'Ada', createdAt: tick() };
        await expect(users.create(profile)).resolves.toEqual(profile);
        await expect(users.get(id)).resolves.toEqual(profile);
        await expect(users.create({ ...profile, name: 'Other' })).rejects.toBeInstanceOf(UserExists);
        await expect(users.get(id)).resolves.toEqual(profile);
        await expect(users.get(newUserId())).resolves.toBeNull();
      });

      it('lets exactly one of many concurrent creations of one id succeed', async () => {
        const id = newUserId();
        const results = await Promise.allSettled(
          Array.from({ length: 10 }, (_, i) => users.create({ id, email: `${i}@example.com`, name: `n${i}`, createdAt: tick() })),
        );
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(UserExists);
      });
    });

    describe('deposits and settlement', () => {
      it('stores a pending deposit without crediting, lists the currency at zero, then credits on completion', async () => {
        const u = await newUser();
        expect(await ledger.getBalances(u)).toEqual([]);
        const d = await ledger.createDeposit(tx({ type: 'deposit', userId: u, amount: 1050, currency: 'EUR', metadata: { ref: 'x' } }));
        expect(d.status).toBe('pending');
        expect(await ledger.getTransaction(d.id)).toEqual(d);
        expect(await ledger.getBalances(u)).toEqual([{ currency: 'EUR', available: 0, held: 0 }]);
        const now = tick();
        const settled = await ledger.settle({ id: d.id, status: 'completed', now });
        expect(settled).toEqual({ ...d, status: 'completed', updatedAt: now });
        expect(await ledger.getTransaction(d.id)).toEqual(settled);
        expect(await available(u, 'EUR')).toBe(1050);
      });

      it('fails a deposit without crediting, and refuses any second transition', async () => {
        const u = await newUser();
        const d = await ledger.createDeposit(tx({ type: 'deposit', userId: u, amount: 500 }));
        await ledger.settle({ id: d.id, status: 'failed', now: tick() });
        expect(await available(u)).toBe(0);
        await expect(ledger.settle({ id: d.id, status: 'completed', now: tick() })).rejects.toBeInstanceOf(InvalidStateTransition);
        await expect(ledger.settle({ id: d.id, status: 'failed', now: tick() })).rejects.toBeInstanceOf(InvalidStateTransition);
        expect(await available(u)).toBe(0);
        expect((await ledger.getTransaction(d.id))?.status).toBe('failed');
      });

      it('fails a completed deposit the balance cannot hold, in one step, crediting nothing and recording nothing for its key', async () => {
        const u = await newUser();
        await fund(u, MAX_BALANCE - 50);
        const s = scope(u);
        await ledger.claimIdempotency(s, times());
        const d = await ledger.createDeposit(tx({ type: 'deposit', userId: u, amount: 51 }), s);
        const now = tick();
        const settled = await ledger.settle({ id: d.id, status: 'completed', now, metadata: { m: '1' } }, s);
        expect(settled).toEqual({ ...d, status: 'failed', updatedAt: now, metadata: { m: '1' } });
        expect(await ledger.getTransaction(d.id)).toEqual(settled);
        expect(await available(u)).toBe(MAX_BALANCE - 50);
        expect((await ledger.listPendingDeposits({ createdBefore: tick(), limit: 1000 })).map((p) => p.id)).not.toContain(d.id);
        await expect(ledger.settle({ id: d.id, status: 'completed', now: tick() })).rejects.toBeInstanceOf(InvalidStateTransition);
        // The key is still in flight with this request: its refusal is the caller's to record.
        await ledger.completeIdempotency(s, { kind: 'error', error: { code: 'balance_limit_exceeded', message: 'full', param: 'amount' } });
        // Exactly up to the maximum still fits (without a key, as the reconciler settles).
        const fits = await ledger.createDeposit(tx({ type: 'deposit', userId: u, amount: 50 }));
        expect((await ledger.settle({ id: fits.id, status: 'completed', now: tick() })).status).toBe('completed');
        expect(await available(u)).toBe(MAX_BALANCE);
        const over = await ledger.createDeposit(tx({ type: 'deposit', userId: u, amount: 1 }));
        expect((await ledger.settle({ id: over.id, status: 'completed', now: tick() })).status).toBe('failed');
        expect(await available(u)).toBe(MAX_BALANCE);
      });

      it('refuses to fail an overflowing deposit for a request that no longer holds the key', async () => {
        const u = await newUser();
        await fund(u, MAX_BALANCE);
        const first = scope(u);
        const start = tick();
        await ledger.claimIdempotency(first, times(start, 1_000));
        const d = await ledger.createDeposit(tx({ type: 'deposit', userId: u, amount: 10 }), first);
        await ledger.claimIdempotency(retryOf(first), times(new Date(Date.parse(start) + 5_000).toISOString()));
        await expect(ledger.settle({ id: d.id, status: 'completed', now: tick() }, first)).rejects.toBeInstanceOf(IdempotencyKeyInUse);
        expect((await ledger.getTransaction(d.id))?.status).toBe('pending');
        expect(await available(u)).toBe(MAX_BALANCE);
      });

      it('credits exactly once when many settlements of one deposit race', async () => {
        const u = await newUser();
        const d = await ledger.createDeposit(tx({ type: 'deposit', userId: u, amount: 700 }));
        const results = await Promise.allSettled(
          Array.from({ length: 20 }, (_, i) => ledger.settle({ id: d.id, status: i % 2 ? 'completed' : 'failed', now: tick() })),
        );
        const won = results.filter((r): r is PromiseFulfilledResult<Transaction> => r.status === 'fulfilled');
        expect(won).toHaveLength(1);
        for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(InvalidStateTransition);
        expect(await available(u)).toBe(won[0]?.value.status === 'completed' ? 700 : 0);
      });

      it('replaces metadata in the same step as settling, and alone in any status', async () => {
        const u = await newUser();
        const d = await ledger.createDeposit(tx({ type: 'deposit', userId: u, metadata: { a: '1' } }));
        const s = await ledger.settle({ id: d.id, status: 'completed', now: tick(), metadata: { b: '2' } });
        expect(s.metadata).toEqual({ b: '2' });
        const now = tick();
        const m = await ledger.updateMetadata(d.id, { c: '3' }, now);
        expect(m).toMatchObject({ status: 'completed', metadata: { c: '3' }, updatedAt: now });
        expect(await ledger.getTransaction(d.id)).toEqual(m);
      });

      it('answers NotFound for unknown transactions', async () => {
        const missing = uuidv7();
        await expect(ledger.getTransaction(missing)).resolves.toBeNull();
        await expect(ledger.settle({ id: missing, status: 'completed', now: tick() })).rejects.toBeInstanceOf(NotFound);
        await expect(ledger.updateMetadata(missing, {}, tick())).rejects.toBeInstanceOf(NotFound);
      });

      it('keeps the gateway reference of a deposit without showing it elsewhere', async () => {
        const u = await newUser();
        const d = await ledger.createDeposit(tx({ type: 'deposit', userId: u }));
        await ledger.setPaymentRef(d.id, 'pay_123');
        expect((await ledger.getTransaction(d.id))?.paymentRef).toBe('pay_123');
      });

      it('lists pending deposits created before a time, oldest first, bounded', async () => {
        const u = await newUser();
        const a = await ledger.createDeposit(tx({ type: 'deposit', userId: u }));
        const b = await ledger.createDeposit(tx({ type: 'deposit', userId: u }));
        const cutoff = tick();
        const late = await ledger.createDeposit(tx({ type: 'deposit', userId: u }));
        const settled = await ledger.createDeposit(tx({ type: 'deposit', userId: u, createdAt: a.createdAt }));
        await ledger.settle({ id: settled.id, status: 'completed', now: tick() });
        const listed = (await ledger.listPendingDeposits({ createdBefore: cutoff, limit: 10_000 })).filter((t) => t.userId === u);
        expect(listed.map((t) => t.id)).toEqual([a.id, b.id]);
        expect(listed.map((t) => t.id)).not.toContain(late.id);
        expect(await ledger.listPendingDeposits({ createdBefore: cutoff, limit: 1 })).toHaveLength(1);
      });

      it('keeps large amounts exact (no float anywhere)', async () => {
        const u = await newUser();
        const big = 100_000_000_000;
        for (let i = 0; i < 3; i++) await fund(u, big);
        await fund(u, 7);
        expect(await available(u)).toBe(300_000_000_007);
        await ledger.withdraw(tx({ type: 'withdrawal', userId: u, amount: big - 1 }));
        expect(await available(u)).toBe(200_000_000_008);
      });
    });

    describe('withdrawals and transfers', () => {
      it('debits a withdrawal and refuses an overdraft with no effect', async () => {
        const u = await newUser();
        await fund(u, 1000);
        const w = await ledger.withdraw(tx({ type: 'withdrawal', userId: u, amount: 400 }));
        expect(await ledger.getTransaction(w.id)).toEqual(w);
        expect(await available(u)).toBe(600);
        const refused = tx({ type: 'withdrawal', userId: u, amount: 601 });
        await expect(ledger.withdraw(refused)).rejects.toBeInstanceOf(InsufficientFunds);
        expect(await available(u)).toBe(600);
        expect(await ledger.getTransaction(refused.id)).toBeNull();
        await expect(ledger.withdraw(tx({ type: 'withdrawal', userId: u, amount: 1, currency: 'GBP' }))).rejects.toBeInstanceOf(InsufficientFunds);
      });

      it('refuses a transfer the recipient cannot hold with BalanceOverflow and no effect', async () => {
        const [a, b] = [await newUser(), await newUser()];
        await fund(a, 100);
        await fund(b, MAX_BALANCE - 50);
        const refused = tx({ type: 'transfer', userId: a, toUserId: b, amount: 51 });
        await expect(ledger.transfer(refused)).rejects.toBeInstanceOf(BalanceOverflow);
        const s = scope(a);
        await ledger.claimIdempotency(s, times());
        await expect(ledger.transfer(tx({ type: 'transfer', userId: a, toUserId: b, amount: 51 }), s)).rejects.toBeInstanceOf(BalanceOverflow);
        // Nothing recorded: the key is still in flight with this request.
        expect(await ledger.claimIdempotency(retryOf(s), times())).toEqual({ kind: 'in_use' });
        if (ledger.claimsWithMovement) {
          const fresh = scope(a);
          await expect(ledger.transfer(tx({ type: 'transfer', userId: a, toUserId: b, amount: 51 }), fresh, times())).rejects.toBeInstanceOf(BalanceOverflow);
          expect(await ledger.claimIdempotency(retryOf(fresh), times())).toEqual({ kind: 'claimed' });
        }
        expect(await available(a)).toBe(100);
        expect(await available(b)).toBe(MAX_BALANCE - 50);
        expect(await ledger.getTransaction(refused.id)).toBeNull();
        expect((await ledger.listTransactions({ userId: a, limit: 10, type: 'transfer' }))).toEqual([]);
        await ledger.transfer(tx({ type: 'transfer', userId: a, toUserId: b, amount: 50 }));
        expect(await available(b)).toBe(MAX_BALANCE);
      });

      it('refuses in one order on every store: profiles, then the sender\'s funds, then the recipient\'s limit', async () => {
        // Both sorts of user-id order: PostgreSQL locks the lower id's row first.
        for (const [low, high] of [['a', 'z'], ['z', 'a']] as const) {
          const sender = `${low}-${newUserId()}`;
          const recipient = `${high}-${newUserId()}`;
          for (const id of [sender, recipient]) await users.create({ id, email: `${id}@example.com`, name: 'T', createdAt: tick() });
          await fund(sender, 10);
          await fund(recipient, MAX_BALANCE - 5);
          // Short of funds and past the recipient's limit: the funds come first.
          await expect(ledger.transfer(tx({ type: 'transfer', userId: sender, toUserId: recipient, amount: 11 }))).rejects.toBeInstanceOf(InsufficientFunds);
          await expect(ledger.transfer(tx({ type: 'transfer', userId: sender, toUserId: recipient, amount: 6 }))).rejects.toBeInstanceOf(BalanceOverflow);
          await expect(ledger.transfer(tx({ type: 'transfer', userId: sender, toUserId: newUserId(), amount: 11 }))).rejects.toMatchObject({ code: 'not_found', param: 'toUserId' });
          expect([await available(sender), await available(recipient)]).toEqual([10, MAX_BALANCE - 5]);
        }
      });

      it('lets exactly 10 of 100 concurrent withdrawals succeed when only 10 are affordable', async () => {
        const u = await newUser();
        await fund(u, 100);
        const results = await Promise.allSettled(
          Array.from({ length: 100 }, () => ledger.withdraw(tx({ type: 'withdrawal', userId: u, amount: 10 }))),
        );
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(10);
        for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(InsufficientFunds);
        expect(await available(u)).toBe(0);
        const history = await ledger.listTransactions({ userId: u, limit: 200, type: 'withdrawal' });
        expect(history).toHaveLength(10);
      });

      it('moves a transfer atomically and shows it in both histories', async () => {
        const [a, b] = [await newUser(), await newUser()];
        await fund(a, 1000);
        const t = await ledger.transfer(tx({ type: 'transfer', userId: a, toUserId: b, amount: 250, metadata: { note: 'rent' } }));
        expect(await available(a)).toBe(750);
        expect(await available(b)).toBe(250);
        expect((await ledger.listTransactions({ userId: a, limit: 10, type: 'transfer' })).map((x) => x.id)).toEqual([t.id]);
        expect(await ledger.listTransactions({ userId: b, limit: 10 })).toEqual([t]);
        const refused = tx({ type: 'transfer', userId: b, toUserId: a, amount: 251 });
        await expect(ledger.transfer(refused)).rejects.toBeInstanceOf(InsufficientFunds);
        expect(await available(a)).toBe(750);
        expect(await available(b)).toBe(250);
        expect(await ledger.getTransaction(refused.id)).toBeNull();
      });

      it('checks profiles inside the movement: sender first, then recipient (param toUserId), then funds; no effect', async () => {
        const [a, b] = [await newUser(), await newUser()];
        await fund(a, 100);
        const ghost = newUserId();
        const ghost2 = newUserId();
        const refusedWith = async (t: Transaction, run: (t: Transaction) => Promise<Transaction>): Promise<unknown> => {
          const err = await run(t).then(() => undefined, (e: unknown) => e);
          expect(await ledger.getTransaction(t.id)).toBeNull();
          return err;
        };
        const withdraw = (t: Transaction) => ledger.withdraw(t);
        const transfer = (t: Transaction) => ledger.transfer(t);
        // A withdrawal by someone with no profile, even with money on record for the id.
        await fund(ghost, 50);
        expect(await refusedWith(tx({ type: 'withdrawal', userId: ghost, amount: 1 }), withdraw)).toMatchObject({ code: 'not_found', param: undefined });
        expect(await refusedWith(tx({ type: 'transfer', userId: ghost, toUserId: ghost2, amount: 1 }), transfer)).toMatchObject({ code: 'not_found', param: undefined });
        expect(await refusedWith(tx({ type: 'transfer', userId: ghost, toUserId: a, amount: 1 }), transfer)).toMatchObject({ code: 'not_found', param: undefined });
        // A missing recipient wins over missing funds, whichever id sorts first.
        for (const to of [`a${ghost2}`, `z${ghost2}`]) {
          const err = await refusedWith(tx({ type: 'transfer', userId: a, toUserId: to, amount: 1_000 }), transfer);
          expect(err).toBeInstanceOf(NotFound);
          expect(err).toMatchObject({ code: 'not_found', param: 'toUserId' });
          expect(await refusedWith(tx({ type: 'transfer', userId: a, toUserId: to, amount: 1 }), transfer)).toMatchObject({ param: 'toUserId' });
        }
        await expect(ledger.transfer(tx({ type: 'transfer', userId: b, toUserId: a, amount: 1 }))).rejects.toBeInstanceOf(InsufficientFunds);
        expect(await available(a)).toBe(100);
        expect(await available(ghost)).toBe(50);
        expect(await ledger.getBalances(`a${ghost2}`)).toEqual([]);
        expect(await ledger.getBalances(`z${ghost2}`)).toEqual([]);
      });

      it('fast path: a movement refused for a missing profile records no key', async () => {
        if (!ledger.claimsWithMovement) return;
        const u = await newUser();
        await fund(u, 100);
        const s1 = scope(u);
        await expect(ledger.transfer(tx({ type: 'transfer', userId: u, toUserId: newUserId(), amount: 5 }), s1, times())).rejects.toMatchObject({ param: 'toUserId' });
        expect(await ledger.claimIdempotency(retryOf(s1), times())).toEqual({ kind: 'claimed' });
        expect(await available(u)).toBe(100);
      });

      it('conserves the total and never goes negative under 200 concurrent transfers among 10 accounts', async () => {
        const accounts: string[] = [];
        for (let i = 0; i < 10; i++) accounts.push(await newUser());
        for (const a of accounts) await fund(a, 1000);
        const pick = (i: number, salt: number): string => accounts[(i * 7 + salt) % accounts.length] as string;
        const results = await Promise.allSettled(
          Array.from({ length: 200 }, (_, i) => {
            const from = pick(i, 0);
            let to = pick(i, 3 + (i % 5));
            if (to === from) to = pick(i, 1);
            return ledger.transfer(tx({ type: 'transfer', userId: from, toUserId: to, amount: 50 + (i % 13) * 37 }));
          }),
        );
        for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(InsufficientFunds);
        const balances = await Promise.all(accounts.map((a) => available(a)));
        for (const b of balances) expect(b).toBeGreaterThanOrEqual(0);
        expect(balances.reduce((s: number, b) => s + (b ?? 0), 0)).toBe(10_000);
        // Every acknowledged transfer is in both histories exactly once.
        const acknowledged = results.filter((r): r is PromiseFulfilledResult<Transaction> => r.status === 'fulfilled').map((r) => r.value);
        const histories = new Map<string, string[]>();
        for (const a of accounts) histories.set(a, (await ledger.listTransactions({ userId: a, limit: 1000, type: 'transfer' })).map((t) => t.id));
        for (const t of acknowledged) {
          expect(histories.get(t.userId)?.filter((id) => id === t.id)).toHaveLength(1);
          expect(histories.get(t.toUserId as string)?.filter((id) => id === t.id)).toHaveLength(1);
        }
        const listed = new Set([...histories.values()].flat());
        expect(listed.size).toBe(acknowledged.length);
      });

      it('never deadlocks or overdraws with opposite-direction transfers racing', async () => {
        const [a, b] = [await newUser(), await newUser()];
        await fund(a, 500);
        await fund(b, 500);
        await Promise.allSettled(
          Array.from({ length: 60 }, (_, i) => ledger.transfer(tx({ type: 'transfer', userId: i % 2 ? a : b, toUserId: i % 2 ? b : a, amount: 40 }))),
        );
        const [x, y] = [await available(a), await available(b)];
        expect((x ?? 0) + (y ?? 0)).toBe(1000);
        expect(x).toBeGreaterThanOrEqual(0);
        expect(y).toBeGreaterThanOrEqual(0);
      });
    });

    describe('idempotency records', () => {
      it('claims a new key, reports it in use while in flight, and a mismatch for another fingerprint', async () => {
        const u = await newUser();
        const s = scope(u);
        expect(await ledger.claimIdempotency(s, times())).toEqual({ kind: 'claimed' });
        expect(await ledger.claimIdempotency(s, times())).toEqual({ kind: 'in_use' });
        expect(await ledger.claimIdempotency({ ...s, fingerprint: 'other' }, times())).toEqual({ kind: 'mismatch' });
        // Keys are scoped to the caller.
        expect(await ledger.claimIdempotency({ ...s, callerId: await newUser() }, times())).toEqual({ kind: 'claimed' });
      });

      it('lets exactly one of many concurrent claims of one key win', async () => {
        const u = await newUser();
        const s = scope(u);
        const claims = await Promise.all(Array.from({ length: 50 }, () => ledger.claimIdempotency(s, times())));
        expect(claims.filter((c) => c.kind === 'claimed')).toHaveLength(1);
        expect(claims.filter((c) => c.kind === 'in_use')).toHaveLength(49);
      });

      it('records a withdrawal outcome in the same step and replays it', async () => {
        const u = await newUser();
        await fund(u, 100);
        const s = scope(u);
        await ledger.claimIdempotency(s, times());
        const w = await ledger.withdraw(tx({ type: 'withdrawal', userId: u, amount: 30 }), s);
        expect(await ledger.claimIdempotency(s, times())).toEqual({ kind: 'replay', outcome: { kind: 'transaction', transaction: w } });
        expect(await ledger.claimIdempotency({ ...s, fingerprint: 'other' }, times())).toEqual({ kind: 'mismatch' });
      });

      it('records transfer and settlement outcomes in the same step', async () => {
        const [a, b] = [await newUser(), await newUser()];
        await fund(a, 100);
        const s1 = scope(a);
        await ledger.claimIdempotency(s1, times());
        const t = await ledger.transfer(tx({ type: 'transfer', userId: a, toUserId: b, amount: 5 }), s1);
        expect(await ledger.claimIdempotency(s1, times())).toEqual({ kind: 'replay', outcome: { kind: 'transaction', transaction: t } });

        const s2 = scope(a);
        await ledger.claimIdempotency(s2, times());
        const d = await ledger.createDeposit(tx({ type: 'deposit', userId: a }), s2);
        const settled = await ledger.settle({ id: d.id, status: 'completed', now: tick() }, s2);
        expect(await ledger.claimIdempotency(s2, times())).toEqual({ kind: 'replay', outcome: { kind: 'transaction', transaction: settled } });
      });

      it('stores an error outcome and replays it', async () => {
        const u = await newUser();
        const s = scope(u);
        await ledger.claimIdempotency(s, times());
        const outcome = { kind: 'error' as const, error: { code: 'insufficient_funds' as const, message: 'no', param: 'amount' } };
        await ledger.completeIdempotency(s, outcome);
        expect(await ledger.claimIdempotency(s, times())).toEqual({ kind: 'replay', outcome });
      });

      it('lets a retry run again after a release, and resumes the deposit an earlier attempt linked', async () => {
        const u = await newUser();
        const s = scope(u);
        await ledger.claimIdempotency(s, times());
        const d = await ledger.createDeposit(tx({ type: 'deposit', userId: u }), s);
        await ledger.releaseIdempotency(s);
        expect(await ledger.claimIdempotency(s, times())).toEqual({ kind: 'claimed', transactionId: d.id });
        expect(await ledger.claimIdempotency(s, times())).toEqual({ kind: 'in_use' });
      });

      it('lets a claim whose lease ran out be taken over', async () => {
        const u = await newUser();
        const s = scope(u);
        const start = tick();
        await ledger.claimIdempotency(s, times(start, 1_000));
        const d = await ledger.createDeposit(tx({ type: 'deposit', userId: u }), s);
        const later = new Date(Date.parse(start) + 5_000).toISOString();
        expect(await ledger.claimIdempotency(s, times(later))).toEqual({ kind: 'claimed', transactionId: d.id });
      });

      it('forgets a key after it expires', async () => {
        const u = await newUser();
        const s = scope(u);
        const start = tick();
        await ledger.claimIdempotency(s, times(start, 1_000, 2_000));
        await ledger.completeIdempotency(s, { kind: 'error', error: { code: 'not_found', message: 'x' } });
        const later = new Date(Date.parse(start) + 10_000).toISOString();
        expect(await ledger.claimIdempotency({ ...s, fingerprint: 'new' }, times(later))).toEqual({ kind: 'claimed' });
      });

      it('lets nothing move for a request whose claim was taken over after its lease ran out', async () => {
        const [u, v] = [await newUser(), await newUser()];
        await fund(u, 100);
        const first = scope(u);
        const start = tick();
        await ledger.claimIdempotency(first, times(start, 1_000));
        const second = retryOf(first);
        const later = new Date(Date.parse(start) + 5_000).toISOString();
        expect(await ledger.claimIdempotency(second, times(later))).toEqual({ kind: 'claimed' });

        const stale = tx({ type: 'withdrawal', userId: u, amount: 10 });
        await expect(ledger.withdraw(stale, first)).rejects.toBeInstanceOf(IdempotencyKeyInUse);
        await expect(ledger.transfer(tx({ type: 'transfer', userId: u, toUserId: v, amount: 10 }), first)).rejects.toBeInstanceOf(IdempotencyKeyInUse);
        await expect(ledger.createDeposit(tx({ type: 'deposit', userId: u }), first)).rejects.toBeInstanceOf(IdempotencyKeyInUse);
        await expect(ledger.completeIdempotency(first, { kind: 'error', error: { code: 'not_found', message: 'x' } })).rejects.toBeInstanceOf(IdempotencyKeyInUse);
        await ledger.releaseIdempotency(first);
        expect(await available(u)).toBe(100);
        expect(await available(v)).toBeUndefined();
        expect(await ledger.getTransaction(stale.id)).toBeNull();
        // The release by the stale request did not free the new holder's claim.
        expect(await ledger.claimIdempotency(retryOf(first), times(later))).toEqual({ kind: 'in_use' });

        const w = await ledger.withdraw(tx({ type: 'withdrawal', userId: u, amount: 10 }), second);
        expect(await available(u)).toBe(90);
        expect(await ledger.claimIdempotency(retryOf(first), times(later))).toEqual({ kind: 'replay', outcome: { kind: 'transaction', transaction: w } });
      });

      it('refuses to settle for a request that no longer holds the key', async () => {
        const u = await newUser();
        const first = scope(u);
        const start = tick();
        await ledger.claimIdempotency(first, times(start, 1_000));
        const d = await ledger.createDeposit(tx({ type: 'deposit', userId: u, amount: 70 }), first);
        const second = retryOf(first);
        expect(await ledger.claimIdempotency(second, times(new Date(Date.parse(start) + 5_000).toISOString()))).toEqual({ kind: 'claimed', transactionId: d.id });
        await expect(ledger.settle({ id: d.id, status: 'completed', now: tick() }, first)).rejects.toBeInstanceOf(IdempotencyKeyInUse);
        expect((await ledger.getTransaction(d.id))?.status).toBe('pending');
        expect(await available(u)).toBe(0);
        await ledger.settle({ id: d.id, status: 'completed', now: tick() }, second);
        expect(await available(u)).toBe(70);
      });

      it('refuses writes for a key that was never claimed', async () => {
        const u = await newUser();
        await fund(u, 100);
        await expect(ledger.withdraw(tx({ type: 'withdrawal', userId: u, amount: 1 }), scope(u))).rejects.toBeInstanceOf(IdempotencyKeyInUse);
        expect(await available(u)).toBe(100);
      });

      it('purges expired keys and keeps live ones (where the store does not expire them itself)', async () => {
        if (!ledger.purgeExpiredIdempotency) return;
        const u = await newUser();
        const [old, live] = [scope(u), scope(u)];
        const start = tick();
        await ledger.claimIdempotency(old, times(start, 1_000, 2_000));
        await ledger.claimIdempotency(live, times(start));
        const later = new Date(Date.parse(start) + 10_000).toISOString();
        let purged = 0;
        for (let n = -1; n !== 0; purged += n) n = await ledger.purgeExpiredIdempotency(later, 1000);
        expect(purged).toBeGreaterThanOrEqual(1);
        expect(await ledger.claimIdempotency(retryOf(live), times(later))).toEqual({ kind: 'in_use' });
        expect(await ledger.claimIdempotency({ ...old, fingerprint: 'other' }, times(later))).toEqual({ kind: 'claimed' });
      });

      it('fast path: claims a new key inside the movement itself, records the outcome, and replays it', async () => {
        if (!ledger.claimsWithMovement) return;
        const [u, v] = [await newUser(), await newUser()];
        await fund(u, 100);
        const s1 = scope(u);
        const w = await ledger.withdraw(tx({ type: 'withdrawal', userId: u, amount: 30 }), s1, times());
        expect(await ledger.claimIdempotency(retryOf(s1), times())).toEqual({ kind: 'replay', outcome: { kind: 'transaction', transaction: w } });
        const s2 = scope(u);
        const t = await ledger.transfer(tx({ type: 'transfer', userId: u, toUserId: v, amount: 20 }), s2, times());
        expect(await ledger.claimIdempotency(retryOf(s2), times())).toEqual({ kind: 'replay', outcome: { kind: 'transaction', transaction: t } });
        expect(await available(u)).toBe(50);
        expect(await available(v)).toBe(20);
      });

      it('fast path: leaves a key that already has a record alone, and moves nothing', async () => {
        if (!ledger.claimsWithMovement) return;
        const u = await newUser();
        await fund(u, 100);
        const done = scope(u);
        const w = await ledger.withdraw(tx({ type: 'withdrawal', userId: u, amount: 10 }), done, times());
        const again = tx({ type: 'withdrawal', userId: u, amount: 10 });
        await expect(ledger.withdraw(again, retryOf(done), times())).rejects.toBeInstanceOf(IdempotencyKeyInUse);
        const inFlight = scope(u);
        await ledger.claimIdempotency(inFlight, times());
        await expect(ledger.withdraw(tx({ type: 'withdrawal', userId: u, amount: 10 }), retryOf(inFlight), times())).rejects.toBeInstanceOf(IdempotencyKeyInUse);
        expect(await available(u)).toBe(90);
        expect(await ledger.getTransaction(again.id)).toBeNull();
        expect(await ledger.claimIdempotency(retryOf(done), times())).toEqual({ kind: 'replay', outcome: { kind: 'transaction', transaction: w } });
      });

      it('fast path: a refused movement records no key', async () => {
        if (!ledger.claimsWithMovement) return;
        const [u, v] = [await newUser(), await newUser()];
        const s1 = scope(u);
        await expect(ledger.transfer(tx({ type: 'transfer', userId: u, toUserId: v, amount: 5 }), s1, times())).rejects.toBeInstanceOf(InsufficientFunds);
        expect(await ledger.claimIdempotency(retryOf(s1), times())).toEqual({ kind: 'claimed' });
      });

      it('fast path: exactly one of many concurrent movements with one new key takes effect', async () => {
        if (!ledger.claimsWithMovement) return;
        const u = await newUser();
        await fund(u, 1000);
        const s1 = scope(u);
        const results = await Promise.allSettled(
          Array.from({ length: 20 }, () => ledger.withdraw(tx({ type: 'withdrawal', userId: u, amount: 10 }), retryOf(s1), times())),
        );
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(IdempotencyKeyInUse);
        expect(await available(u)).toBe(990);
      });

      it('fast path: replays the movement as it was created, after a refund and an admin metadata edit', async () => {
        if (!ledger.claimsWithMovement) return;
        const [u, v] = [await newUser(), await newUser()];
        await fund(u, 100);
        const s1 = scope(u);
        const t = await ledger.transfer(tx({ type: 'transfer', userId: u, toUserId: v, amount: 40, metadata: { order: 'A-1', b: '2' } }), s1, times());
        const s2 = scope(u);
        const w = await ledger.withdraw(tx({ type: 'withdrawal', userId: u, amount: 10 }), s2, times());
        await ledger.refund({ refund: refundOf(t, 15), now: tick() });
        await ledger.updateMetadata(t.id, { order: 'edited' }, tick());
        await ledger.updateMetadata(t.id, { order: 'edited again' }, tick());
        await ledger.updateMetadata(w.id, { note: 'added' }, tick());
        expect(await ledger.getTransaction(t.id)).toMatchObject({ refundedAmount: 15, metadata: { order: 'edited again' } });
        expect(await ledger.claimIdempotency(retryOf(s1), times())).toEqual({ kind: 'replay', outcome: { kind: 'transaction', transaction: t } });
        expect(await ledger.claimIdempotency(retryOf(s2), times())).toEqual({ kind: 'replay', outcome: { kind: 'transaction', transaction: w } });
        expect(await ledger.claimIdempotency({ ...retryOf(s1), fingerprint: 'another request' }, times())).toEqual({ kind: 'mismatch' });
      });

      it('fast path: a movement and a claim of the same new key for another request never both take it', async () => {
        if (!ledger.claimsWithMovement) return;
        const u = await newUser();
        await fund(u, 1000);
        let moved = 0;
        for (let i = 0; i < 25; i++) {
          const s = scope(u);
          const [movement, claim] = await Promise.allSettled([
            ledger.withdraw(tx({ type: 'withdrawal', userId: u, amount: 1 }), s, times()),
            ledger.claimIdempotency({ ...retryOf(s), fingerprint: 'a deposit' }, times()),
          ]);
          if (movement.status === 'fulfilled') {
            moved++;
            expect(claim).toEqual({ status: 'fulfilled', value: { kind: 'mismatch' } });
          } else {
            expect(movement.reason).toBeInstanceOf(IdempotencyKeyInUse);
            expect(claim).toEqual({ status: 'fulfilled', value: { kind: 'claimed' } });
          }
        }
        expect(await available(u)).toBe(1000 - moved);
      });

      it('does not record anything for a refused withdrawal', async () => {
        const u = await newUser();
        const s = scope(u);
        await ledger.claimIdempotency(s, times());
        await expect(ledger.withdraw(tx({ type: 'withdrawal', userId: u, amount: 1 }), s)).rejects.toBeInstanceOf(InsufficientFunds);
        expect(await ledger.claimIdempotency(s, times())).toEqual({ kind: 'in_use' });
      });
    });

    describe('history paging', () => {
      it('pages newest first by (createdAt, id) with filters, exactly once each', async () => {
        const [a, b] = [await newUser(), await newUser()];
        await fund(a, 10_000);
        const sameMs = tick();
        const made: Transaction[] = [];
        for (let i = 0; i < 6; i++) made.push(await ledger.withdraw(tx({ type: 'withdrawal', userId: a, amount: 1, createdAt: sameMs })));
        for (let i = 0; i < 6; i++) made.push(await ledger.transfer(tx({ type: 'transfer', userId: a, toUserId: b, amount: 1 })));
        const all = await ledger.listTransactions({ userId: a, limit: 100 });
        expect(all).toHaveLength(13);
        for (let i = 1; i < all.length; i++) {
          const [p, c] = [all[i - 1] as Transaction, all[i] as Transaction];
          expect(p.createdAt > c.createdAt || (p.createdAt === c.createdAt && p.id > c.id)).toBe(true);
        }
        const seen: string[] = [];
        let before: { createdAt: string; id: string } | undefined;
        for (;;) {
          const page = await ledger.listTransactions({ userId: a, limit: 4, ...(before && { before }) });
          seen.push(...page.map((t) => t.id));
          const last = page[page.length - 1];
          if (page.length < 4 || !last) break;
          before = { createdAt: last.createdAt, id: last.id };
        }
        expect(seen).toEqual(all.map((t) => t.id));
        expect((await ledger.listTransactions({ userId: a, limit: 100, type: 'withdrawal' })).map((t) => t.id).sort())
          .toEqual(made.slice(0, 6).map((t) => t.id).sort());
        expect(await ledger.listTransactions({ userId: a, limit: 100, status: 'pending' })).toEqual([]);
        expect(await ledger.listTransactions({ userId: b, limit: 100, type: 'withdrawal' })).toEqual([]);
      });

      it('never repeats or skips an older item while new ones are inserted', async () => {
        const [a, b] = [await newUser(), await newUser()];
        await fund(a, 10_000);
        for (let i = 0; i < 15; i++) await ledger.transfer(tx({ type: 'transfer', userId: a, toUserId: b, amount: 1 }));
        const snapshot = (await ledger.listTransactions({ userId: b, limit: 100 })).map((t) => t.id);
        const seen: string[] = [];
        let before: { createdAt: string; id: string } | undefined;
        for (;;) {
          const page = await ledger.listTransactions({ userId: b, limit: 4, ...(before && { before }) });
          await Promise.all([1, 2].map(() => ledger.transfer(tx({ type: 'transfer', userId: a, toUserId: b, amount: 1 }))));
          seen.push(...page.map((t) => t.id));
          const last = page[page.length - 1];
          if (page.length < 4 || !last) break;
          before = { createdAt: last.createdAt, id: last.id };
        }
        expect(seen).toEqual(snapshot);
      });
    });

    describeHoldAndRefundCases(() => ({ ledger, users }));
  });
};
