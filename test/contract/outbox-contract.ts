// The transactional outbox, on every store opened with events on: each change of a
// transaction or hold writes exactly one event in its own atomic step (type = the
// state it left, version = the resource's change count), a refused change writes
// none, and relays claim, skip and acknowledge batches without sending one twice
// within a lease. `describeOutboxContract('redis', makeFixture)`.
import { randomUUID } from 'node:crypto';
import type { WalletEvent } from '../../src/core/events';
import type { Ledger, Outbox, UserStore } from '../../src/core/ports';
import { after, captureOf, newHold, refundOf, refusal, scope, storeHelpers, tick, times, tx } from './contract-fixtures';

export interface OutboxFixture {
  ledger: Ledger;
  users: UserStore;
  outbox: Outbox;
  close?: () => Promise<void>;
}

export const describeOutboxContract = (name: string, makeFixture: () => Promise<OutboxFixture>): void => {
  describe(`outbox contract: ${name}`, () => {
    let f: OutboxFixture;
    beforeAll(async () => {
      f = await makeFixture();
    });
    afterAll(async () => {
      await f?.close?.();
    });
    const { newUser, fund } = storeHelpers(() => f);

    /** Claims everything waiting (far in the future, so no lease blocks) and acknowledges it. */
    const drain = async (): Promise<WalletEvent[]> => {
      const all: WalletEvent[] = [];
      for (;;) {
        const token = randomUUID();
        const now = '2999-01-01T00:00:00.000Z';
        const batch = await f.outbox.claimEvents({ limit: 100, now, leaseUntil: after(now, 60_000), token });
        if (batch.length === 0) return all;
        all.push(...batch);
        await f.outbox.ackEvents(batch.map((e) => e.id), token);
      }
    };
    const idOf = (e: WalletEvent): string => (e.resource.kind === 'hold' ? e.resource.hold.id : e.resource.transaction.id);
    /** The events about one resource, by version. */
    const about = (events: WalletEvent[], id: string): Array<[string, number]> =>
      events.filter((e) => idOf(e) === id).sort((a, b) => a.version - b.version).map((e) => [e.type, e.version]);

    beforeEach(async () => {
      await drain();
    });

    it('a deposit is pending (v1) then completed (v2); a withdrawal and a transfer are completed (v1); the event carries the resource as stored', async () => {
      const [a, b] = [await newUser(), await newUser()];
      const d = await fund(a, 1_000);
      const w = await f.ledger.withdraw(tx({ type: 'withdrawal', userId: a, amount: 100 }));
      const t = await f.ledger.transfer(tx({ type: 'transfer', userId: a, toUserId: b, amount: 200 }));
      const events = await drain();
      expect(about(events, d.id)).toEqual([['transaction.pending', 1], ['transaction.completed', 2]]);
      expect(about(events, w.id)).toEqual([['transaction.completed', 1]]);
      expect(about(events, t.id)).toEqual([['transaction.completed', 1]]);
      const last = events.find((e) => idOf(e) === d.id && e.version === 2);
      expect(last?.resource).toEqual({ kind: 'transaction', transaction: expect.objectContaining({ id: d.id, status: 'completed', amount: 1_000 }) });
      expect(typeof last?.occurredAt).toBe('string');
      expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    });

    it('a refused movement writes no event; a keyed movement on the fast path writes one', async () => {
      const [a, b] = [await newUser(), await newUser()];
      await fund(a, 100);
      await drain();
      await refusal(f.ledger.withdraw(tx({ type: 'withdrawal', userId: a, amount: 101 })));
      await refusal(f.ledger.transfer(tx({ type: 'transfer', userId: a, toUserId: `nobody-${randomUUID()}`, amount: 1 })));
      expect(await drain()).toEqual([]);
      const s = scope(a);
      const t = await f.ledger.transfer(tx({ type: 'transfer', userId: a, toUserId: b, amount: 10 }), s, f.ledger.claimsWithMovement ? times() : undefined)
        .catch(async () => {
          await f.ledger.claimIdempotency(s, times());
          return f.ledger.transfer(tx({ type: 'transfer', userId: a, toUserId: b, amount: 10 }), s);
        });
      expect(about(await drain(), t.id)).toEqual([['transaction.completed', 1]]);
    });

    it('a metadata edit and a settle with metadata are one event each, with the next version', async () => {
      const a = await newUser();
      const d = await f.ledger.createDeposit(tx({ type: 'deposit', userId: a, amount: 50 }));
      await f.ledger.updateMetadata(d.id, { note: 'x' }, tick());
      await f.ledger.settle({ id: d.id, status: 'failed', now: tick(), metadata: { note: 'y' } });
      await refusal(f.ledger.settle({ id: d.id, status: 'completed', now: tick() }));
      expect(about(await drain(), d.id)).toEqual([['transaction.pending', 1], ['transaction.updated', 2], ['transaction.failed', 3]]);
    });

    it('holds: created, captured (with the capture transaction), voided, expired by a debit and by the release', async () => {
      const [a, b] = [await newUser(), await newUser()];
      await fund(a, 1_000);
      const h1 = await f.ledger.createHold(newHold({ userId: a, toUserId: b, amount: 100 }));
      const now = tick();
      const { transaction: cap } = await f.ledger.captureHold({ holdId: h1.id, transaction: captureOf(h1, 60, now), now });
      const h2 = await f.ledger.createHold(newHold({ userId: a, amount: 100 }));
      await f.ledger.voidHold({ holdId: h2.id, now: tick() });
      const created = tick();
      const h3 = await f.ledger.createHold(newHold({ userId: a, amount: 100, createdAt: created, updatedAt: created, expiresAt: after(created, 1) }));
      const h4 = await f.ledger.createHold(newHold({ userId: a, amount: 100, createdAt: created, updatedAt: created, expiresAt: after(created, 1) }));
      // A read writes nothing; the payer's next debit releases both, in its own step.
      await f.ledger.getBalances(a, after(created, 10));
      await f.ledger.withdraw(tx({ type: 'withdrawal', userId: a, amount: 1, createdAt: after(created, 10) }));
      const h5 = await f.ledger.createHold(newHold({ userId: b, amount: 10, createdAt: created, updatedAt: created, expiresAt: after(created, 1) }));
      await f.ledger.releaseExpiredHolds({ now: after(created, 20), limit: 100 });
      const events = await drain();
      expect(about(events, h1.id)).toEqual([['hold.created', 1], ['hold.captured', 2]]);
      expect(about(events, cap.id)).toEqual([['transaction.completed', 1]]);
      expect(about(events, h2.id)).toEqual([['hold.created', 1], ['hold.voided', 2]]);
      expect(about(events, h3.id)).toEqual([['hold.created', 1], ['hold.expired', 2]]);
      expect(about(events, h4.id)).toEqual([['hold.created', 1], ['hold.expired', 2]]);
      expect(about(events, h5.id)).toEqual([['hold.created', 1], ['hold.expired', 2]]);
      const captured = events.find((e) => idOf(e) === h1.id && e.version === 2);
      expect(captured?.resource).toEqual({ kind: 'hold', hold: expect.objectContaining({ status: 'captured', capturedAmount: 60, transactionId: cap.id }) });
    });

    it('refunds: the refund is one event, and the original is updated (its refundedAmount) in the same step; a failed deposit refund gives it back', async () => {
      const [a, b] = [await newUser(), await newUser()];
      const d = await fund(a, 1_000);
      const t = await f.ledger.transfer(tx({ type: 'transfer', userId: a, toUserId: b, amount: 300 }));
      const r1 = await f.ledger.refund({ refund: refundOf(t, 100), now: tick() });
      const r2 = await f.ledger.refund({ refund: refundOf(d, 200), now: tick() });
      await f.ledger.settle({ id: r2.id, status: 'failed', now: tick() });
      await refusal(f.ledger.refund({ refund: refundOf(t, 201), now: tick() }));
      const events = await drain();
      expect(about(events, r1.id)).toEqual([['transaction.completed', 1]]);
      expect(about(events, t.id)).toEqual([['transaction.completed', 1], ['transaction.updated', 2]]);
      expect(about(events, r2.id)).toEqual([['transaction.pending', 1], ['transaction.failed', 2]]);
      expect(about(events, d.id)).toEqual([['transaction.pending', 1], ['transaction.completed', 2], ['transaction.updated', 3], ['transaction.updated', 4]]);
      const updated = events.find((e) => idOf(e) === t.id && e.version === 2);
      expect(updated?.resource).toEqual({ kind: 'transaction', transaction: expect.objectContaining({ refundedAmount: 100, status: 'completed' }) });
      const given = events.find((e) => idOf(e) === d.id && e.version === 4);
      expect(given?.resource).toEqual({ kind: 'transaction', transaction: expect.objectContaining({ refundedAmount: 0 }) });
    });

    it('relays: oldest first, a claimed batch is skipped by another relay until its lease runs out, an ack needs the claim token', async () => {
      const a = await newUser();
      const first = await f.ledger.createDeposit(tx({ type: 'deposit', userId: a, amount: 1 }));
      const second = await f.ledger.createDeposit(tx({ type: 'deposit', userId: a, amount: 2 }));
      const now = '2999-01-01T00:00:00.000Z';
      const [t1, t2, t3] = [randomUUID(), randomUUID(), randomUUID()];
      const one = await f.outbox.claimEvents({ limit: 1, now, leaseUntil: after(now, 1_000), token: t1 });
      expect(one.map(idOf)).toEqual([first.id]);
      const rest = await f.outbox.claimEvents({ limit: 10, now, leaseUntil: after(now, 1_000), token: t2 });
      expect(rest.map(idOf)).toEqual([second.id]);
      expect(await f.outbox.claimEvents({ limit: 10, now, leaseUntil: after(now, 1_000), token: t3 })).toEqual([]);
      expect((await f.outbox.backlog()).count).toBe(2);
      // A wrong token acknowledges nothing; the lease running out makes the batch claimable again.
      await f.outbox.ackEvents(one.map((e) => e.id), t2);
      const later = after(now, 2_000);
      const again = await f.outbox.claimEvents({ limit: 10, now: later, leaseUntil: after(later, 1_000), token: t3 });
      expect(again.map(idOf).sort()).toEqual([first.id, second.id].sort());
      expect(again.find((e) => idOf(e) === first.id)?.id).toBe(one[0]?.id);
      await f.outbox.ackEvents(again.map((e) => e.id), t3);
      expect(await f.outbox.backlog()).toEqual({ count: 0 });
    });

    it('the backlog names its oldest event', async () => {
      const a = await newUser();
      const at = tick();
      await f.ledger.createDeposit(tx({ type: 'deposit', userId: a, amount: 1, createdAt: at, updatedAt: at }));
      await f.ledger.createDeposit(tx({ type: 'deposit', userId: a, amount: 1 }));
      expect(await f.outbox.backlog()).toEqual({ count: 2, oldestAt: at });
    });

    it('concurrent relays never hold the same event at once', async () => {
      const a = await newUser();
      await Promise.all(Array.from({ length: 30 }, (_, i) => f.ledger.createDeposit(tx({ type: 'deposit', userId: a, amount: i + 1 }))));
      const now = '2999-01-01T00:00:00.000Z';
      const batches = await Promise.all(Array.from({ length: 6 }, () => f.outbox.claimEvents({ limit: 7, now, leaseUntil: after(now, 60_000), token: randomUUID() })));
      const ids = batches.flat().map((e) => e.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.length).toBe(30);
    });
  });
};
