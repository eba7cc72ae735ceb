// Every method runs its check-and-write synchronously, with no await in between,
// so under any number of concurrent async callers each one is atomic.
import { BalanceOverflow, IdempotencyKeyInUse, InsufficientFunds, InvalidStateTransition, TransactionNotFound } from '../../core/errors';
import { decideClaim } from '../../core/idempotency-decision';
import { MAX_BALANCE, type Balance, type Currency } from '../../core/money';
import type {
  ClaimTimes, HistoryQuery, IdempotencyClaim, IdempotencyOutcome, IdempotencyScope, Ledger, SettleInput,
} from '../../core/ports';
import { compareNewestFirst, isOlderThan, type Metadata, type Transaction } from '../../core/transaction';
import { profileNotFound } from '../../core/user';
import type { IdempotencyRecord, MemoryState } from './memory-state';

const copy = <T>(v: T): T => structuredClone(v);
const keyOf = (s: IdempotencyScope): string => `${s.callerId}\u0000${s.key}`;

export const makeMemoryLedger = (state: MemoryState): Ledger => {
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
  /** The fast path: a key with no record at all is claimed by this movement. */
  const claimFresh = (scope: IdempotencyScope, times: ClaimTimes): IdempotencyRecord => {
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
  const requireProfiles = (tx: Transaction): void => {
    if (!state.users.has(tx.userId)) throw profileNotFound();
    if (tx.toUserId !== undefined && !state.users.has(tx.toUserId)) throw profileNotFound('toUserId');
  };
  /** InsufficientFunds, with no effect, unless the payer's balance covers the movement. */
  const mustCover = (tx: Transaction): number => {
    const available = balancesOf(tx.userId).get(tx.currency) ?? 0;
    if (available < tx.amount) throw new InsufficientFunds();
    return available;
  };
  const debit = (tx: Transaction): void => {
    balancesOf(tx.userId).set(tx.currency, mustCover(tx) - tx.amount);
  };

  return {
    claimsWithMovement: true,
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
      return copy(tx);
    },
    async settle(input: SettleInput, idem) {
      const r = held(idem);
      const tx = existing(input.id);
      if (tx.status !== 'pending') throw new InvalidStateTransition(tx.status, input.status);
      const credits = input.status === 'completed' && tx.type === 'deposit';
      // A credit that cannot be held fails the deposit instead; its outcome is the caller's to record.
      const overflow = credits && !fits(tx.userId, tx.currency, tx.amount);
      if (credits && !overflow) credit(tx.userId, tx.currency, tx.amount);
      tx.status = overflow ? 'failed' : input.status;
      tx.updatedAt = input.now;
      if (input.metadata) tx.metadata = { ...input.metadata };
      if (!overflow) finish(idem, r, { kind: 'transaction', transaction: tx });
      return copy(tx);
    },
    async withdraw(tx, idem, claim) {
      const r = claim && idem ? claimFresh(idem, claim) : held(idem);
      requireProfiles(tx);
      debit(tx);
      store(tx);
      finish(idem, r, { kind: 'transaction', transaction: tx });
      return copy(tx);
    },
    async transfer(tx, idem, claim) {
      if (!tx.toUserId) throw new RangeError('transfer without toUserId');
      const r = claim && idem ? claimFresh(idem, claim) : held(idem);
      requireProfiles(tx);
      // The port's order: the sender's funds, then the recipient's limit; nothing changes before both pass.
      mustCover(tx);
      if (!fits(tx.toUserId, tx.currency, tx.amount)) throw new BalanceOverflow();
      debit(tx);
      credit(tx.toUserId, tx.currency, tx.amount);
      store(tx);
      finish(idem, r, { kind: 'transaction', transaction: tx });
      return copy(tx);
    },
    async setPaymentRef(id, paymentRef) {
      existing(id).paymentRef = paymentRef;
    },
    async updateMetadata(id: string, metadata: Metadata, now: string) {
      const tx = existing(id);
      tx.metadata = { ...metadata };
      tx.updatedAt = now;
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
      return [...state.transactions.values()]
        .filter((t) => t.type === 'deposit' && t.status === 'pending' && t.createdAt < createdBefore)
        .sort((a, b) => compareNewestFirst(b, a))
        .slice(0, limit)
        .map(copy);
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
    async getBalances(userId): Promise<Balance[]> {
      return [...(state.balances.get(userId) ?? new Map<string, number>()).entries()]
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([currency, available]) => ({ currency: currency as Currency, available }));
    },
  };
};
