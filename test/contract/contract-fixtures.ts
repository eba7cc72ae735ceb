// What every case of the storage contract builds with: a shared strictly increasing
// clock, transactions shaped as the use cases make them, idempotency scopes, and
// users with money (made through the ports themselves).
import { randomUUID } from 'node:crypto';
import type { Hold } from '../../src/core/hold';
import type { Balance, Currency } from '../../src/core/money';
import type { ClaimTimes, IdempotencyScope, Ledger, UserStore } from '../../src/core/ports';
import type { Transaction } from '../../src/core/transaction';
import { uuidv7 } from '../../src/adapters/system/system-clock';

export interface StorageFixture {
  ledger: Ledger;
  users: UserStore;
  /** Called once after the suite. */
  close?: () => Promise<void>;
}

/** The stores of a fixture, as cases get them once the suite's beforeAll has made them. */
export type Stores = () => Pick<StorageFixture, 'ledger' | 'users'>;

/** A USD balance entry. */
export const usd = (available: number, held: number) => ({ currency: 'USD', available, held });

/** What `p` rejects with; a test fails when it resolves. */
export const refusal = (p: Promise<unknown>): Promise<unknown> =>
  p.then(() => { throw new Error('expected a refusal'); }, (e: unknown) => e);

let clockMs = Date.parse('2030-01-01T00:00:00.000Z');
/** Strictly increasing timestamps, so ordering assertions are exact. */
export const tick = (): string => new Date(++clockMs).toISOString();
/** `ms` after an ISO time. */
export const after = (iso: string, ms: number): string => new Date(Date.parse(iso) + ms).toISOString();

export const newUserId = (): string => `user-${randomUUID()}`;

/** A transaction as the use cases build it: deposits, withdrawals and transfers carry refundedAmount 0. */
export const tx = (over: Partial<Transaction> & Pick<Transaction, 'type' | 'userId'>): Transaction => {
  const now = over.createdAt ?? tick();
  return {
    id: uuidv7(),
    status: over.type === 'deposit' ? 'pending' : 'completed',
    amount: 100,
    currency: 'USD',
    metadata: {},
    createdAt: now,
    updatedAt: now,
    ...(over.type !== 'refund' && { refundedAmount: 0 }),
    ...over,
  };
};

export const HOUR_MS = 3_600_000;

/** A new `held` hold as the create-hold use case builds it (an hour to live unless told). */
export const newHold = (over: Partial<Hold> & Pick<Hold, 'userId'>): Hold => {
  const now = over.createdAt ?? tick();
  return {
    id: uuidv7(), amount: 100, currency: 'USD', capturedAmount: 0, status: 'held',
    expiresAt: after(now, HOUR_MS), metadata: {}, createdAt: now, updatedAt: now, ...over,
  };
};

/** A capture's transaction as the capture use case builds it: a transfer to the payee, else a withdrawal. */
export const captureOf = (h: Hold, amount = h.amount, now = tick()): Transaction => tx({
  type: h.toUserId === undefined ? 'withdrawal' : 'transfer',
  userId: h.userId,
  ...(h.toUserId !== undefined && { toUserId: h.toUserId }),
  amount,
  currency: h.currency,
  holdId: h.id,
  createdAt: now,
});

/** A refund of `original` as the refund use case builds it (pending for a deposit). */
export const refundOf = (original: Transaction, amount: number, now = tick()): Transaction => {
  const transfer = original.type === 'transfer' && original.toUserId !== undefined;
  return {
    id: uuidv7(),
    type: 'refund',
    status: original.type === 'deposit' ? 'pending' : 'completed',
    userId: transfer ? (original.toUserId as string) : original.userId,
    ...(transfer && { toUserId: original.userId }),
    amount,
    currency: original.currency,
    metadata: {},
    refundOf: original.id,
    createdAt: now,
    updatedAt: now,
  };
};

export const times = (now = tick(), leaseMs = 60_000, ttlMs = 86_400_000): ClaimTimes => ({
  now,
  leaseUntil: after(now, leaseMs),
  expiresAt: after(now, ttlMs),
});

export const scope = (callerId: string, fingerprint = 'fp-1'): IdempotencyScope => ({ callerId, key: `key-${randomUUID()}`, fingerprint, token: randomUUID() });
/** The same key and request, sent again by another attempt (its own token). */
export const retryOf = (s: IdempotencyScope): IdempotencyScope => ({ ...s, token: randomUUID() });

/** Users and money through the ports of the fixture `get` returns (set up in a beforeAll). */
export const storeHelpers = (get: Stores) => ({
  newUser: async (): Promise<string> => {
    const id = newUserId();
    await get().users.create({ id, email: `${id}@example.com`, name: 'Test', createdAt: tick() });
    return id;
  },
  /** A completed deposit of `amount`. */
  fund: async (userId: string, amount: number, currency: Currency = 'USD'): Promise<Transaction> => {
    const { ledger } = get();
    const d = await ledger.createDeposit(tx({ type: 'deposit', userId, amount, currency }));
    return ledger.settle({ id: d.id, status: 'completed', now: tick() });
  },
  /** The user's balance in `currency` as of `now` (undefined when the user never held it). */
  balance: async (userId: string, now: string, currency: Currency = 'USD'): Promise<Balance | undefined> =>
    (await get().ledger.getBalances(userId, now)).find((b) => b.currency === currency),
  /** The user's available money in `currency` (undefined when the user never held it), as of `now`. */
  available: async (userId: string, currency = 'USD', now?: string): Promise<number | undefined> =>
    (await get().ledger.getBalances(userId, now)).find((b) => b.currency === currency)?.available,
});
