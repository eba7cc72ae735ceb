// withIdempotency, moveOnce and holdOnce against a hand-written stub Ledger: no storage, just the
// claim each test scripts and a record of what the core asked the ledger to do.
import {
  DomainError, Forbidden, IdempotencyKeyInUse, IdempotencyKeyReused, InsufficientFunds, NotFound, PaymentGatewayError, ServiceUnavailable,
} from '../../src/core/errors';
import { makeMemoryLedger } from '../../src/adapters/memory/memory-ledger';
import { createMemoryState } from '../../src/adapters/memory/memory-state';
import { makeMemoryUserStore } from '../../src/adapters/memory/memory-user-store';
import { systemClock, uuidv7, uuidV7Ids } from '../../src/adapters/system/system-clock';
import type { Hold } from '../../src/core/hold';
import { holdOnce, moveOnce, withIdempotency, type IdempotencyContext } from '../../src/core/idempotency';
import type { ClaimTimes, IdempotencyClaim, IdempotencyOutcome, IdempotencyScope, Ledger } from '../../src/core/ports';
import type { Transaction } from '../../src/core/transaction';
import { makeCaptureHold } from '../../src/core/use-cases/capture-hold';
import { makeCreateHold } from '../../src/core/use-cases/create-hold';

const NOW = '2030-06-01T12:00:00.000Z';
const TIMES: ClaimTimes = { now: NOW, leaseUntil: '2030-06-01T12:01:00.000Z', expiresAt: '2030-06-02T12:00:00.000Z' };
const SCOPE: IdempotencyScope = { callerId: 'user-a', key: 'key-1', fingerprint: 'fp-1', token: 'token-1' };

const movement = (over: Partial<Transaction> = {}): Transaction => ({
  id: 'tx-1', type: 'withdrawal', status: 'completed', userId: 'user-a', amount: 500, currency: 'USD', metadata: {},
  createdAt: NOW, updatedAt: NOW, ...over,
});

interface Stub {
  ledger: Ledger;
  /** Every idempotency call the core made, in order. */
  calls: Array<
    | { method: 'claimIdempotency'; scope: IdempotencyScope; times: ClaimTimes }
    | { method: 'completeIdempotency'; scope: IdempotencyScope; outcome: IdempotencyOutcome }
    | { method: 'releaseIdempotency'; scope: IdempotencyScope }
  >;
}

const unexpected = (name: string) => (): Promise<never> => Promise.reject(new Error(`the core called ledger.${name}`));

/** A Ledger whose claim answers `claim`; the movement methods are never to be called here (`move` is the test's own). */
const stubLedger = (claim: IdempotencyClaim, opts: { claimsWithMovement?: boolean; claimsWithHold?: boolean; claimsWithCapture?: boolean } = {}): Stub => {
  const calls: Stub['calls'] = [];
  const ledger: Ledger = {
    ...(opts.claimsWithMovement && { claimsWithMovement: true }),
    ...(opts.claimsWithHold && { claimsWithHold: true }),
    ...(opts.claimsWithCapture && { claimsWithCapture: true }),
    claimIdempotency: async (scope, times) => {
      calls.push({ method: 'claimIdempotency', scope, times });
      return claim;
    },
    completeIdempotency: async (scope, outcome) => {
      calls.push({ method: 'completeIdempotency', scope, outcome });
    },
    releaseIdempotency: async (scope) => {
      calls.push({ method: 'releaseIdempotency', scope });
    },
    createDeposit: unexpected('createDeposit'),
    settle: unexpected('settle'),
    withdraw: unexpected('withdraw'),
    transfer: unexpected('transfer'),
    setPaymentRef: unexpected('setPaymentRef'),
    updateMetadata: unexpected('updateMetadata'),
    getTransaction: unexpected('getTransaction'),
    listTransactions: unexpected('listTransactions'),
    listPendingDeposits: unexpected('listPendingDeposits'),
    getBalances: unexpected('getBalances'),
    createHold: unexpected('createHold'),
    captureHold: unexpected('captureHold'),
    voidHold: unexpected('voidHold'),
    releaseExpiredHolds: unexpected('releaseExpiredHolds'),
    getHold: unexpected('getHold'),
    listHolds: unexpected('listHolds'),
    refund: unexpected('refund'),
    listPendingRefunds: unexpected('listPendingRefunds'),
  };
  return { ledger, calls };
};

const context = (ledger: Ledger): IdempotencyContext => ({ ledger, now: NOW, nowMs: () => Date.parse(NOW), leaseMs: 60_000, ttlMs: 86_400_000 });
const methods = (s: Stub): string[] => s.calls.map((c) => c.method);
/** A precheck outcome, settled before use like the use cases' own (never an unhandled rejection). */
/** moveOnce's precheck: the checks that need no storage (a transfer to oneself). */
const failed = (err: Error) => (): never => {
  throw err;
};

describe('withIdempotency', () => {
  it('without a key, just runs', async () => {
    const s = stubLedger({ kind: 'in_use' });
    const run = jest.fn(async () => movement());
    await expect(withIdempotency(context(s.ledger), undefined, run)).resolves.toEqual({ transaction: movement(), replayed: false });
    expect(run).toHaveBeenCalledWith({ kind: 'claimed' });
    expect(s.calls).toEqual([]);
  });

  it('claims with the lease and expiry counted from now, runs with the claim, and leaves the outcome to the run', async () => {
    const s = stubLedger({ kind: 'claimed', transactionId: 'tx-earlier' });
    const run = jest.fn(async () => movement());
    await expect(withIdempotency(context(s.ledger), SCOPE, run)).resolves.toEqual({ transaction: movement(), replayed: false });
    expect(run).toHaveBeenCalledWith({ kind: 'claimed', transactionId: 'tx-earlier' });
    expect(s.calls).toEqual([{ method: 'claimIdempotency', scope: SCOPE, times: TIMES }]);
  });

  it('replays a recorded transaction without running (the HTTP layer\'s whitelist hides internal fields, replays included)', async () => {
    const recorded = movement({ type: 'deposit', paymentRef: 'pay_123' });
    const s = stubLedger({ kind: 'replay', outcome: { kind: 'transaction', transaction: recorded } });
    const run = jest.fn(async () => movement());
    const result = await withIdempotency(context(s.ledger), SCOPE, run);
    expect(result).toEqual({ transaction: recorded, replayed: true });
    expect(run).not.toHaveBeenCalled();
    expect(methods(s)).toEqual(['claimIdempotency']);
  });

  it('replays a recorded error as the same error, marked replayed, without running', async () => {
    const recorded = new InsufficientFunds().snapshot();
    const s = stubLedger({ kind: 'replay', outcome: { kind: 'error', error: recorded } });
    const run = jest.fn(async () => movement());
    const err = await withIdempotency(context(s.ledger), SCOPE, run).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DomainError);
    expect((err as DomainError).snapshot()).toEqual(recorded);
    expect((err as DomainError).replayed).toBe(true);
    expect(run).not.toHaveBeenCalled();
    expect(methods(s)).toEqual(['claimIdempotency']);
  });

  it.each([
    { kind: 'in_use', error: IdempotencyKeyInUse },
    { kind: 'mismatch', error: IdempotencyKeyReused },
  ] as const)('answers a claim found $kind with $error.name, without running or writing', async ({ kind, error }) => {
    const s = stubLedger({ kind });
    const run = jest.fn(async () => movement());
    await expect(withIdempotency(context(s.ledger), SCOPE, run)).rejects.toBeInstanceOf(error);
    expect(run).not.toHaveBeenCalled();
    expect(methods(s)).toEqual(['claimIdempotency']);
  });

  it.each([
    ['insufficient funds', new InsufficientFunds()],
    ['not found', new NotFound('No user profile for toUserId', 'toUserId')],
  ])('records a 4xx (%s) as the key\'s final outcome and rethrows it', async (_name, error) => {
    const s = stubLedger({ kind: 'claimed' });
    await expect(withIdempotency(context(s.ledger), SCOPE, async () => { throw error; })).rejects.toBe(error);
    expect(s.calls).toEqual([
      { method: 'claimIdempotency', scope: SCOPE, times: TIMES },
      { method: 'completeIdempotency', scope: SCOPE, outcome: { kind: 'error', error: error.snapshot() } },
    ]);
  });

  it.each([
    ['service unavailable', new ServiceUnavailable()],
    ['payment gateway error', new PaymentGatewayError('Payment gateway unreachable', 'tx-1')],
    ['key lost to a take-over', new IdempotencyKeyInUse()],
    ['unexpected error', new Error('boom')],
  ])('releases the key after a 5xx or unknown failure (%s), so a retry runs again, and rethrows it', async (_name, error) => {
    const s = stubLedger({ kind: 'claimed' });
    await expect(withIdempotency(context(s.ledger), SCOPE, async () => { throw error; })).rejects.toBe(error);
    expect(s.calls).toEqual([
      { method: 'claimIdempotency', scope: SCOPE, times: TIMES },
      { method: 'releaseIdempotency', scope: SCOPE },
    ]);
  });
});

/** A step (a movement, a hold's creation) that answers each call in turn with the next result, or throws it if an error. */
const scripted = <T>(...results: Array<T | Error>) => {
  const step = jest.fn(async (_claim?: ClaimTimes): Promise<T> => {
    const next = results[step.mock.calls.length - 1];
    if (next === undefined) throw new Error('called more often than scripted');
    if (next instanceof Error) throw next;
    return next;
  });
  return step;
};

describe('moveOnce', () => {
  const moves = scripted<Transaction>;

  it('without a key: moves without claiming', async () => {
    const s = stubLedger({ kind: 'in_use' }, { claimsWithMovement: true });
    const move = moves(movement());
    await expect(moveOnce(context(s.ledger), undefined, move)).resolves.toEqual({ transaction: movement(), replayed: false });
    expect(move.mock.calls).toEqual([[]]);
    expect(s.calls).toEqual([]);
  });

  it('without a key: a failed precheck is the answer, and nothing moves', async () => {
    const s = stubLedger({ kind: 'in_use' }, { claimsWithMovement: true });
    const move = moves(movement());
    const error = new NotFound('No user profile');
    await expect(moveOnce(context(s.ledger), undefined, move, failed(error))).rejects.toBe(error);
    expect(move).not.toHaveBeenCalled();
  });

  it('fast path: the movement claims the key itself (one step, no separate claim)', async () => {
    const s = stubLedger({ kind: 'in_use' }, { claimsWithMovement: true });
    const move = moves(movement());
    await expect(moveOnce(context(s.ledger), SCOPE, move)).resolves.toEqual({ transaction: movement(), replayed: false });
    expect(move.mock.calls).toEqual([[TIMES]]);
    expect(s.calls).toEqual([]);
  });

  it('without the fast path: claims first, then moves under the claim', async () => {
    const s = stubLedger({ kind: 'claimed' });
    const move = moves(movement());
    await expect(moveOnce(context(s.ledger), SCOPE, move)).resolves.toEqual({ transaction: movement(), replayed: false });
    expect(move.mock.calls).toEqual([[]]);
    expect(s.calls).toEqual([{ method: 'claimIdempotency', scope: SCOPE, times: TIMES }]);
  });

  it('without the fast path: a replayed key answers at once and nothing moves', async () => {
    const done = movement({ id: 'tx-earlier' });
    const s = stubLedger({ kind: 'replay', outcome: { kind: 'transaction', transaction: done } });
    const move = moves(movement());
    await expect(moveOnce(context(s.ledger), SCOPE, move)).resolves.toEqual({ transaction: done, replayed: true });
    expect(move).not.toHaveBeenCalled();
  });

  it('fast path: a key already on record falls back to the regular claim, which replays it', async () => {
    const done = movement({ id: 'tx-earlier' });
    const s = stubLedger({ kind: 'replay', outcome: { kind: 'transaction', transaction: done } }, { claimsWithMovement: true });
    const move = moves(new IdempotencyKeyInUse());
    await expect(moveOnce(context(s.ledger), SCOPE, move)).resolves.toEqual({ transaction: done, replayed: true });
    expect(move.mock.calls).toEqual([[TIMES]]);
    expect(methods(s)).toEqual(['claimIdempotency']);
  });

  it('fast path: a key in flight elsewhere falls back, and the regular claim answers in use', async () => {
    const s = stubLedger({ kind: 'in_use' }, { claimsWithMovement: true });
    const move = moves(new IdempotencyKeyInUse());
    await expect(moveOnce(context(s.ledger), SCOPE, move)).rejects.toBeInstanceOf(IdempotencyKeyInUse);
    expect(move).toHaveBeenCalledTimes(1);
    expect(methods(s)).toEqual(['claimIdempotency']);
  });

  it('fast path: a refusal (insufficient funds) falls back, so the refusal is recorded as the key\'s outcome', async () => {
    const s = stubLedger({ kind: 'claimed' }, { claimsWithMovement: true });
    const move = moves(new InsufficientFunds(), new InsufficientFunds());
    await expect(moveOnce(context(s.ledger), SCOPE, move)).rejects.toBeInstanceOf(InsufficientFunds);
    expect(move.mock.calls).toEqual([[TIMES], []]);
    expect(s.calls).toEqual([
      { method: 'claimIdempotency', scope: SCOPE, times: TIMES },
      { method: 'completeIdempotency', scope: SCOPE, outcome: { kind: 'error', error: new InsufficientFunds().snapshot() } },
    ]);
  });

  it('fast path: a missing profile found inside the movement falls back, so the 404 is recorded as the key\'s outcome', async () => {
    const s = stubLedger({ kind: 'claimed' }, { claimsWithMovement: true });
    const error = new NotFound('No user profile for toUserId', 'toUserId');
    const move = moves(error, error);
    await expect(moveOnce(context(s.ledger), SCOPE, move)).rejects.toBe(error);
    expect(move.mock.calls).toEqual([[TIMES], []]);
    expect(s.calls).toEqual([
      { method: 'claimIdempotency', scope: SCOPE, times: TIMES },
      { method: 'completeIdempotency', scope: SCOPE, outcome: { kind: 'error', error: error.snapshot() } },
    ]);
  });

  it('fast path: a refusal that the regular attempt no longer meets moves once, under the claim', async () => {
    const s = stubLedger({ kind: 'claimed' }, { claimsWithMovement: true });
    const move = moves(new InsufficientFunds(), movement());
    await expect(moveOnce(context(s.ledger), SCOPE, move)).resolves.toEqual({ transaction: movement(), replayed: false });
    expect(move.mock.calls).toEqual([[TIMES], []]);
    expect(methods(s)).toEqual(['claimIdempotency']);
  });

  it('fast path: any other failure is the answer, with no claim to release', async () => {
    const s = stubLedger({ kind: 'claimed' }, { claimsWithMovement: true });
    const error = new ServiceUnavailable();
    const move = moves(error);
    await expect(moveOnce(context(s.ledger), SCOPE, move)).rejects.toBe(error);
    expect(move).toHaveBeenCalledTimes(1);
    expect(s.calls).toEqual([]);
  });

  it.each([
    ['with the fast path', true],
    ['without the fast path', false],
  ])('%s: a failed precheck is recorded as the key\'s outcome under a regular claim, and nothing moves', async (_name, fast) => {
    const s = stubLedger({ kind: 'claimed' }, { claimsWithMovement: fast });
    const error = new NotFound('No user profile for toUserId', 'toUserId');
    const move = moves(movement());
    await expect(moveOnce(context(s.ledger), SCOPE, move, failed(error))).rejects.toBe(error);
    expect(move).not.toHaveBeenCalled();
    expect(s.calls).toEqual([
      { method: 'claimIdempotency', scope: SCOPE, times: TIMES },
      { method: 'completeIdempotency', scope: SCOPE, outcome: { kind: 'error', error: error.snapshot() } },
    ]);
  });

  it('a failed precheck does not matter for a key that replays', async () => {
    const done = movement({ id: 'tx-earlier' });
    const s = stubLedger({ kind: 'replay', outcome: { kind: 'transaction', transaction: done } }, { claimsWithMovement: true });
    const move = moves(movement());
    await expect(moveOnce(context(s.ledger), SCOPE, move, failed(new NotFound()))).resolves.toEqual({ transaction: done, replayed: true });
    expect(move).not.toHaveBeenCalled();
  });
});

describe('moveOnce for a capture', () => {
  it('takes the fast path by claimsWithCapture, not by claimsWithMovement', async () => {
    const s = stubLedger({ kind: 'claimed' }, { claimsWithMovement: true });
    const move = scripted<Transaction>(movement());
    await expect(moveOnce(context(s.ledger), SCOPE, move, undefined, 'capture')).resolves.toEqual({ transaction: movement(), replayed: false });
    expect(move.mock.calls).toEqual([[]]);
    expect(methods(s)).toEqual(['claimIdempotency']);
    const t = stubLedger({ kind: 'in_use' }, { claimsWithCapture: true });
    const fast = scripted<Transaction>(movement());
    await expect(moveOnce(context(t.ledger), SCOPE, fast, undefined, 'capture')).resolves.toEqual({ transaction: movement(), replayed: false });
    expect(fast.mock.calls).toEqual([[TIMES]]);
    expect(t.calls).toEqual([]);
  });
});

describe('holdOnce', () => {
  const hold = (over: Partial<Hold> = {}): Hold => ({
    id: 'hold-1', userId: 'user-a', amount: 500, currency: 'USD', capturedAmount: 0, status: 'held', expiresAt: '2030-06-01T13:00:00.000Z',
    metadata: {}, createdAt: NOW, updatedAt: NOW, ...over,
  });
  const creates = scripted<Hold>;

  it('fast path (claimsWithHold): the hold\'s own step claims the key, no separate claim', async () => {
    const s = stubLedger({ kind: 'in_use' }, { claimsWithHold: true });
    const create = creates(hold());
    await expect(holdOnce(context(s.ledger), SCOPE, create)).resolves.toEqual({ hold: hold(), replayed: false });
    expect(create.mock.calls).toEqual([[TIMES]]);
    expect(s.calls).toEqual([]);
  });

  it('a ledger with only claimsWithMovement claims first, then creates under the claim', async () => {
    const s = stubLedger({ kind: 'claimed' }, { claimsWithMovement: true });
    const create = creates(hold());
    await expect(holdOnce(context(s.ledger), SCOPE, create)).resolves.toEqual({ hold: hold(), replayed: false });
    expect(create.mock.calls).toEqual([[]]);
    expect(methods(s)).toEqual(['claimIdempotency']);
  });

  it('fast path: a key already on record falls back to the regular claim, which replays the hold', async () => {
    const done = hold({ id: 'hold-earlier' });
    const s = stubLedger({ kind: 'replay', outcome: { kind: 'hold', hold: done } }, { claimsWithHold: true });
    const create = creates(new IdempotencyKeyInUse());
    await expect(holdOnce(context(s.ledger), SCOPE, create)).resolves.toEqual({ hold: done, replayed: true });
    expect(create.mock.calls).toEqual([[TIMES]]);
    expect(methods(s)).toEqual(['claimIdempotency']);
  });

  it('fast path: a refusal falls back, so it is recorded as the key\'s outcome; a failed precheck never tries the fast path', async () => {
    const s = stubLedger({ kind: 'claimed' }, { claimsWithHold: true });
    const create = creates(new InsufficientFunds(), new InsufficientFunds());
    await expect(holdOnce(context(s.ledger), SCOPE, create)).rejects.toBeInstanceOf(InsufficientFunds);
    expect(create.mock.calls).toEqual([[TIMES], []]);
    expect(methods(s)).toEqual(['claimIdempotency', 'completeIdempotency']);
    const t = stubLedger({ kind: 'claimed' }, { claimsWithHold: true });
    const error = new NotFound('No user profile for toUserId', 'toUserId');
    const never = creates(hold());
    await expect(holdOnce(context(t.ledger), SCOPE, never, failed(error))).rejects.toBe(error);
    expect(never).not.toHaveBeenCalled();
    expect(methods(t)).toEqual(['claimIdempotency', 'completeIdempotency']);
  });
});

/** A memory ledger that counts separate claims, its user store, use-case deps, and `user-a` funded with 900 USD. */
const countingMemory = async (userIds: string[]) => {
  const state = createMemoryState();
  const memory = makeMemoryLedger(state);
  const claims: IdempotencyScope[] = [];
  const ledger: Ledger = { ...memory, claimIdempotency: (scope, times) => (claims.push(scope), memory.claimIdempotency(scope, times)) };
  const users = makeMemoryUserStore(state);
  const deps = { ledger, users, clock: systemClock, ids: uuidV7Ids, limits: { maxAmount: 1_000_000, idempotencyLeaseMs: 60_000, idempotencyTtlMs: 86_400_000 } };
  for (const id of userIds) await users.create({ id, email: `${id}@example.com`, name: id, createdAt: NOW });
  const deposit = await ledger.createDeposit({ ...movement({ type: 'deposit', id: uuidv7(), status: 'pending' }), amount: 900 });
  await ledger.settle({ id: deposit.id, status: 'completed', now: NOW });
  return { ledger, claims, deps };
};

describe('createHold with a new Idempotency-Key, through the use case (memory ledger)', () => {
  it('is one step of the ledger: no separate claim; a retry replays the hold without a second one', async () => {
    const payer = { id: 'user-a', isAdmin: false };
    const { ledger, claims, deps } = await countingMemory([payer.id]);
    const createHold = makeCreateHold(deps);
    const input = { userId: payer.id, amount: 300, currency: 'USD', idempotencyKey: 'hold-key-1' };
    const first = await createHold(payer, input);
    expect(first.replayed).toBe(false);
    expect(claims).toEqual([]);
    expect(await createHold(payer, input)).toEqual({ hold: first.hold, replayed: true });
    expect(claims).toHaveLength(1);
    expect(await ledger.getBalances(payer.id)).toEqual([{ currency: 'USD', available: 600, held: 300 }]);
  });
});

describe('captureHold with a new Idempotency-Key, through the use case (memory ledger)', () => {
  it('is the hold\'s read and one step of the ledger: no separate claim; a retry replays the capture; a refusal is recorded', async () => {
    const [payer, payee] = [{ id: 'user-a', isAdmin: false }, { id: 'user-b', isAdmin: false }];
    const { ledger, claims, deps } = await countingMemory([payer.id, payee.id]);
    const now = new Date().toISOString();
    const hold = await ledger.createHold({
      id: uuidv7(), userId: payer.id, toUserId: payee.id, amount: 300, currency: 'USD', capturedAmount: 0, status: 'held',
      expiresAt: new Date(Date.now() + 3_600_000).toISOString(), metadata: {}, createdAt: now, updatedAt: now,
    });
    const captureHold = makeCaptureHold(deps);
    const input = { holdId: hold.id, amount: 200, idempotencyKey: 'capture-key-1' };
    const first = await captureHold(payee, input);
    expect(first.replayed).toBe(false);
    expect(first.transaction).toMatchObject({ type: 'transfer', amount: 200, userId: payer.id, toUserId: payee.id, holdId: hold.id });
    expect(claims).toEqual([]);
    expect(await captureHold(payee, input)).toEqual({ transaction: first.transaction, replayed: true });
    expect(claims).toHaveLength(1);
    // The payer may not capture a hold with a payee: refused, and the refusal is the key's outcome.
    const refused = { ...input, idempotencyKey: 'capture-key-2' };
    await expect(captureHold(payer, refused)).rejects.toBeInstanceOf(Forbidden);
    await expect(captureHold(payer, refused)).rejects.toMatchObject({ code: 'forbidden' });
    expect(claims).toHaveLength(3);
    expect(await ledger.getBalances(payer.id)).toEqual([{ currency: 'USD', available: 700, held: 0 }]);
    expect(await ledger.getBalances(payee.id)).toEqual([{ currency: 'USD', available: 200, held: 0 }]);
  });
});
