// Every method runs its check-and-write synchronously, with no await in between,
// so under any number of concurrent async callers each one is atomic.
import { randomUUID } from 'node:crypto';
import {
  BalanceOverflow, HoldNotFound, IdempotencyKeyInUse, InsufficientFunds, InvalidRequest, InvalidStateTransition, TransactionNotFound,
} from '../../core/errors';
import { holdEventType, transactionEventType, type EventResource, type EventType, type WalletEvent } from '../../core/events';
import { assertCaptureOf, holdAsOf, holdRefusal, isExpiredAt, type Hold } from '../../core/hold';
import { decideClaim } from '../../core/idempotency-decision';
import { MAX_BALANCE, type Balance, type Currency } from '../../core/money';
import type {
  ClaimTimes, HistoryQuery, IdempotencyClaim, IdempotencyOutcome, IdempotencyScope, Ledger, SettleInput,
} from '../../core/ports';
import { compareNewestFirst, isOlderThan, refundRefusal, type Metadata, type Transaction } from '../../core/transaction';
import { profileNotFound } from '../../core/user';
import type { IdempotencyRecord, MemoryState } from './memory-state';

const copy = <T>(v: T): T => structuredClone(v);
const keyOf = (s: IdempotencyScope): string => `${s.callerId}\u0000${s.key}`;

export interface MemoryLedgerOptions {
  /** Write an event for every change into the outbox (EVENT_BUS_NAME is set). */
  events?: boolean;
}

export const makeMemoryLedger = (state: MemoryState, options: MemoryLedgerOptions = {}): Ledger => {
  /** Counts the change and, with events on, writes its event — inside the same critical section as the change. */
  const announce = (resource: EventResource, type: EventType, at: string): void => {
    const id = resource.kind === 'hold' ? resource.hold.id : resource.transaction.id;
    const version = (state.versions.get(id) ?? 0) + 1;
    state.versions.set(id, version);
    if (!options.events) return;
    const event: WalletEvent = { id: randomUUID(), type, occurredAt: at, version, resource: copy(resource) };
    state.outbox.set(event.id, { event });
  };
  const announceTx = (tx: Transaction, statusChanged: boolean, at: string): void =>
    announce({ kind: 'transaction', transaction: tx }, transactionEventType(tx, statusChanged), at);
  const announceHold = (hold: Hold, at: string): void => announce({ kind: 'hold', hold }, holdEventType(hold), at);

  const balancesOf = (userId: string): Map<string, number> => {
    let m = state.balances.get(userId);
    if (!m) state.balances.set(userId, (m = new Map()));
    return m;
  };
  const addToHistory = (userId: string, txId: string): void => {
    let h = state.histories.get(userId);
    if (!h) state.histories.set(userId, (h = new Set()));
    h.add(txId);
  };
  const fits = (userId: string, currency: string, amount: number): boolean =>
    (balancesOf(userId).get(currency) ?? 0) + amount <= MAX_BALANCE;
  const credit = (userId: string, currency: string, amount: number): void => {
    if (!fits(userId, currency, amount)) throw new BalanceOverflow();
    const b = balancesOf(userId);
    b.set(currency, (b.get(currency) ?? 0) + amount);
  };
  /** The record `scope` still holds, or IdempotencyKeyInUse (checked before any effect). */
  const held = (scope: IdempotencyScope | undefined): IdempotencyRecord | undefined => {
    if (!scope) return undefined;
    const r = state.idempotency.get(keyOf(scope));
    if (!r || r.state !== 'in_flight' || r.token !== scope.token) throw new IdempotencyKeyInUse();
    return r;
  };
  /**
   * Marks the outcome. The record is (re)stored under its key only here, so a claim
   * made with the movement (claimFresh) exists only if the movement succeeded.
   */
  const finish = (scope: IdempotencyScope | undefined, r: IdempotencyRecord | undefined, outcome: IdempotencyOutcome): void => {
    if (!scope || !r) return;
    Object.assign(r, { state: 'done', outcome: copy(outcome) });
    state.idempotency.set(keyOf(scope), r);
  };
  /**
   * The record a withdrawal, transfer, hold creation or capture finishes: with `times` (the fast
   * path) a new one, claimed by this step for a key with no record at all; else `held`.
   */
  const claimFresh = (scope: IdempotencyScope | undefined, times: ClaimTimes | undefined): IdempotencyRecord | undefined => {
    if (!scope || !times) return held(scope);
    if (state.idempotency.has(keyOf(scope))) throw new IdempotencyKeyInUse();
    return { fingerprint: scope.fingerprint, token: scope.token, state: 'in_flight', leaseUntil: times.leaseUntil, expiresAt: times.expiresAt };
  };
  const store = (tx: Transaction): void => {
    state.transactions.set(tx.id, copy(tx));
    addToHistory(tx.userId, tx.id);
    if (tx.toUserId) addToHistory(tx.toUserId, tx.id);
  };
  const existing = (id: string): Transaction => {
    const tx = state.transactions.get(id);
    if (!tx) throw new TransactionNotFound();
    return tx;
  };
  /** Profiles are checked in the movement's own critical section, sender first. */
  const requireProfiles = (tx: Pick<Transaction, 'userId' | 'toUserId'>): void => {
    if (!state.users.has(tx.userId)) throw profileNotFound();
    if (tx.toUserId !== undefined && !state.users.has(tx.toUserId)) throw profileNotFound('toUserId');
  };
  /** InsufficientFunds, with no effect, unless the payer's balance covers the movement. */
  type Debit = Pick<Transaction, 'userId' | 'currency' | 'amount'>;
  const mustCover = (tx: Debit): number => {
    const available = balancesOf(tx.userId).get(tx.currency) ?? 0;
    if (available < tx.amount) throw new InsufficientFunds();
    return available;
  };
  const debit = (tx: Debit): void => {
    balancesOf(tx.userId).set(tx.currency, mustCover(tx) - tx.amount);
  };

  const heldOf = (userId: string): Map<string, number> => {
    let m = state.held.get(userId);
    if (!m) state.held.set(userId, (m = new Map()));
    return m;
  };
  /** The hold's money leaves `held`; `back` of it returns to `available` (all of it, but for a capture). */
  const unhold = (h: Hold, back: number): void => {
    const held = heldOf(h.userId);
    held.set(h.currency, (held.get(h.currency) ?? 0) - h.amount);
    const b = balancesOf(h.userId);
    b.set(h.currency, (b.get(h.currency) ?? 0) + back);
  };
  const expire = (h: Hold): void => {
    unhold(h, h.amount);
    Object.assign(h, { status: 'expired', updatedAt: h.expiresAt });
    announceHold(h, h.expiresAt);
  };
  const holdsOf = (payer: string): Hold[] =>
    [...(state.holdsByPayer.get(payer) ?? [])].flatMap((id) => state.holds.get(id) ?? []);
  /** Before a debit: the payer's holds in the currency past their expiry give their money back (the port's rule). */
  const releaseExpired = (userId: string, currency: string, now: string): void => {
    for (const h of holdsOf(userId)) if (h.currency === currency && isExpiredAt(h, now)) expire(h);
  };
  const existingHold = (id: string): Hold => {
    const h = state.holds.get(id);
    if (!h) throw new HoldNotFound();
    return h;
  };

  const pendingOf = (type: Transaction['type'], createdBefore: string, limit: number): Transaction[] =>
    [...state.transactions.values()]
      .filter((t) => t.type === type && t.status === 'pending' && t.createdAt < createdBefore)
      .sort((a, b) => compareNewestFirst(b, a))
      .slice(0, limit)
      .map(copy);

  return {
    claimsWithMovement: true,
    claimsWithHold: true,
    claimsWithCapture: true,
    async claimIdempotency(scope: IdempotencyScope, times: ClaimTimes): Promise<IdempotencyClaim> {
      const k = keyOf(scope);
      const r = state.idempotency.get(k);
      const decision = decideClaim(
        r && { ...r, leaseUntil: Date.parse(r.leaseUntil), expiresAt: Date.parse(r.expiresAt) },
        scope.fingerprint,
        Date.parse(times.now),
      );
      switch (decision.kind) {
        case 'new':
          state.idempotency.set(k, { fingerprint: scope.fingerprint, token: scope.token, state: 'in_flight', leaseUntil: times.leaseUntil, expiresAt: times.expiresAt });
          return { kind: 'claimed' };
        case 'take_over':
          // Only a live record is taken over: r is there.
          if (r) Object.assign(r, { state: 'in_flight', token: scope.token, leaseUntil: times.leaseUntil });
          return { kind: 'claimed', ...(decision.transactionId && { transactionId: decision.transactionId }) };
        case 'replay':
          return { kind: 'replay', outcome: copy(decision.outcome) };
        case 'in_use':
        case 'mismatch':
          return { kind: decision.kind };
      }
    },
    async completeIdempotency(scope, outcome) {
      finish(scope, held(scope), outcome);
    },
    async releaseIdempotency(scope) {
      const r = state.idempotency.get(keyOf(scope));
      if (r && r.state === 'in_flight' && r.token === scope.token) r.state = 'open';
    },

    async createDeposit(tx, idem) {
      const r = held(idem);
      store(tx);
      // The user now holds this currency, even before the deposit settles.
      const b = balancesOf(tx.userId);
      if (!b.has(tx.currency)) b.set(tx.currency, 0);
      if (r) r.transactionId = tx.id;
      announceTx(tx, true, tx.createdAt);
      return copy(tx);
    },
    async settle(input: SettleInput, idem) {
      const r = held(idem);
      const tx = existing(input.id);
      if (tx.status !== 'pending') throw new InvalidStateTransition(tx.status, input.status);
      if (tx.type === 'refund') {
        // A failed deposit refund gives the money back to the owner and to the original's refundable amount.
        if (input.status === 'failed') {
          credit(tx.userId, tx.currency, tx.amount);
          const original = tx.refundOf === undefined ? undefined : state.transactions.get(tx.refundOf);
          if (original) {
            Object.assign(original, { refundedAmount: (original.refundedAmount ?? 0) - tx.amount, updatedAt: input.now });
            announceTx(original, false, input.now);
          }
        }
        Object.assign(tx, { status: input.status, updatedAt: input.now }, input.metadata && { metadata: { ...input.metadata } });
        announceTx(tx, true, input.now);
        finish(idem, r, { kind: 'transaction', transaction: tx });
        return copy(tx);
      }
      const credits = input.status === 'completed' && tx.type === 'deposit';
      // A credit that cannot be held fails the deposit instead; its outcome is the caller's to record.
      const overflow = credits && !fits(tx.userId, tx.currency, tx.amount);
      if (credits && !overflow) credit(tx.userId, tx.currency, tx.amount);
      tx.status = overflow ? 'failed' : input.status;
      tx.updatedAt = input.now;
      if (input.metadata) tx.metadata = { ...input.metadata };
      announceTx(tx, true, input.now);
      if (!overflow) finish(idem, r, { kind: 'transaction', transaction: tx });
      return copy(tx);
    },
    async withdraw(tx, idem, claim) {
      const r = claimFresh(idem, claim);
      requireProfiles(tx);
      releaseExpired(tx.userId, tx.currency, tx.createdAt);
      debit(tx);
      store(tx);
      announceTx(tx, true, tx.createdAt);
      finish(idem, r, { kind: 'transaction', transaction: tx });
      return copy(tx);
    },
    async transfer(tx, idem, claim) {
      if (!tx.toUserId) throw new RangeError('transfer without toUserId');
      const r = claimFresh(idem, claim);
      requireProfiles(tx);
      releaseExpired(tx.userId, tx.currency, tx.createdAt);
      // The port's order: the sender's funds, then the recipient's limit; nothing changes before both pass.
      mustCover(tx);
      if (!fits(tx.toUserId, tx.currency, tx.amount)) throw new BalanceOverflow();
      debit(tx);
      credit(tx.toUserId, tx.currency, tx.amount);
      store(tx);
      announceTx(tx, true, tx.createdAt);
      finish(idem, r, { kind: 'transaction', transaction: tx });
      return copy(tx);
    },

    async createHold(hold, idem, claim) {
      const r = claimFresh(idem, claim);
      requireProfiles(hold);
      releaseExpired(hold.userId, hold.currency, hold.createdAt);
      debit(hold);
      const h = heldOf(hold.userId);
      h.set(hold.currency, (h.get(hold.currency) ?? 0) + hold.amount);
      state.holds.set(hold.id, copy(hold));
      let mine = state.holdsByPayer.get(hold.userId);
      if (!mine) state.holdsByPayer.set(hold.userId, (mine = new Set()));
      mine.add(hold.id);
      announceHold(hold, hold.createdAt);
      finish(idem, r, { kind: 'hold', hold });
      return copy(hold);
    },
    async captureHold({ holdId, transaction: tx, now }, idem, claim) {
      const r = claimFresh(idem, claim);
      const h = existingHold(holdId);
      assertCaptureOf(h, tx);
      const refusal = holdRefusal(h, 'captured', now);
      if (refusal) throw refusal;
      if (tx.amount > h.amount) throw new InvalidRequest('amount exceeds the hold', 'amount');
      if (h.toUserId !== undefined && !fits(h.toUserId, h.currency, tx.amount)) throw new BalanceOverflow();
      if (!fits(h.userId, h.currency, h.amount - tx.amount)) throw new BalanceOverflow();
      unhold(h, h.amount - tx.amount);
      if (h.toUserId !== undefined) credit(h.toUserId, h.currency, tx.amount);
      store(tx);
      Object.assign(h, { status: 'captured', capturedAmount: tx.amount, transactionId: tx.id, updatedAt: now });
      announceHold(h, now);
      announceTx(tx, true, now);
      finish(idem, r, { kind: 'transaction', transaction: tx });
      return { hold: copy(h), transaction: copy(tx) };
    },
    async voidHold({ holdId, now }, idem) {
      const r = held(idem);
      const h = existingHold(holdId);
      const refusal = holdRefusal(h, 'voided', now);
      if (refusal) throw refusal;
      unhold(h, h.amount);
      Object.assign(h, { status: 'voided', updatedAt: now });
      announceHold(h, now);
      finish(idem, r, { kind: 'hold', hold: h });
      return copy(h);
    },
    async releaseExpiredHolds({ now, limit }) {
      const due = [...state.holds.values()].filter((h) => isExpiredAt(h, now))
        .sort((a, b) => (a.expiresAt < b.expiresAt ? -1 : a.expiresAt > b.expiresAt ? 1 : 0))
        .slice(0, limit);
      due.forEach(expire);
      return due.length;
    },
    async getHold(id, now) {
      const h = state.holds.get(id);
      return h ? holdAsOf(copy(h), now) : null;
    },
    async listHolds(q) {
      return holdsOf(q.userId)
        .map((h) => holdAsOf(h, q.now))
        .filter((h) => (!q.status || h.status === q.status) && (!q.before || isOlderThan(h, q.before)))
        .sort(compareNewestFirst)
        .slice(0, q.limit)
        .map(copy);
    },

    async refund({ refund, now }, idem) {
      const r = held(idem);
      const original = existing(refund.refundOf ?? '');
      const refusal = refundRefusal(original, refund.amount);
      if (refusal) throw refusal;
      if (original.type === 'withdrawal') {
        credit(refund.userId, refund.currency, refund.amount);
      } else {
        // A transfer's payee or a deposit's owner gives the money back; a transfer's sender must be able to hold it.
        releaseExpired(refund.userId, refund.currency, now);
        mustCover(refund);
        if (refund.toUserId !== undefined && !fits(refund.toUserId, refund.currency, refund.amount)) throw new BalanceOverflow();
        debit(refund);
        if (refund.toUserId !== undefined) credit(refund.toUserId, refund.currency, refund.amount);
      }
      Object.assign(original, { refundedAmount: (original.refundedAmount ?? 0) + refund.amount, updatedAt: now });
      store(refund);
      announceTx(refund, true, now);
      announceTx(original, false, now);
      if (refund.status === 'pending') {
        if (r) r.transactionId = refund.id;
      } else {
        finish(idem, r, { kind: 'transaction', transaction: refund });
      }
      return copy(refund);
    },

    async setPaymentRef(id, paymentRef) {
      existing(id).paymentRef = paymentRef;
    },
    async updateMetadata(id: string, metadata: Metadata, now: string) {
      const tx = existing(id);
      tx.metadata = { ...metadata };
      tx.updatedAt = now;
      announceTx(tx, false, now);
      return copy(tx);
    },

    async getTransaction(id) {
      const tx = state.transactions.get(id);
      return tx ? copy(tx) : null;
    },
    async listTransactions(q: HistoryQuery) {
      const ids = state.histories.get(q.userId) ?? new Set<string>();
      const items: Transaction[] = [];
      for (const id of ids) {
        const tx = state.transactions.get(id);
        if (!tx) continue;
        if (q.type && tx.type !== q.type) continue;
        if (q.status && tx.status !== q.status) continue;
        if (q.before && !isOlderThan(tx, q.before)) continue;
        items.push(tx);
      }
      return items.sort(compareNewestFirst).slice(0, q.limit).map(copy);
    },
    async listPendingDeposits({ createdBefore, limit }) {
      return pendingOf('deposit', createdBefore, limit);
    },
    async listPendingRefunds({ createdBefore, limit }) {
      return pendingOf('refund', createdBefore, limit);
    },
    async purgeExpiredIdempotency(now, limit) {
      let purged = 0;
      for (const [k, r] of state.idempotency) {
        if (purged >= limit) break;
        if (r.expiresAt < now) {
          state.idempotency.delete(k);
          purged++;
        }
      }
      return purged;
    },
    async getBalances(userId, now = new Date().toISOString()): Promise<Balance[]> {
      // Holds past their expiry but not yet released count as released.
      const expired = new Map<string, number>();
      for (const h of holdsOf(userId)) if (isExpiredAt(h, now)) expired.set(h.currency, (expired.get(h.currency) ?? 0) + h.amount);
      const held = state.held.get(userId);
      return [...(state.balances.get(userId) ?? new Map<string, number>()).entries()]
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([currency, available]) => {
          const back = expired.get(currency) ?? 0;
          return { currency: currency as Currency, available: available + back, held: (held?.get(currency) ?? 0) - back };
        });
    },
  };
};
