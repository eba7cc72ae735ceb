// Reconciliation through the real use cases, the memory ledger, the HTTP gateway
// adapter and the sandbox: pending and unknown-outcome deposits are settled exactly
// once, whoever races for them.
import { randomUUID } from 'node:crypto';
import { makeMemoryLedger } from '../../src/adapters/memory/memory-ledger';
import { makeMemoryUserStore } from '../../src/adapters/memory/memory-user-store';
import { createMemoryState, type MemoryState } from '../../src/adapters/memory/memory-state';
import { makeHttpPaymentGateway } from '../../src/adapters/payment-gateway/http-payment-gateway';
import { systemClock, uuidV7Ids, uuidv7 } from '../../src/adapters/system/system-clock';
import type { Config } from '../../src/config';
import { makeFakePaymentGateway } from '../../src/adapters/payment-gateway/fake-payment-gateway';
import { BalanceOverflow, DomainError, InvalidStateTransition, PaymentGatewayError } from '../../src/core/errors';
import { CONTRACT_MAX_AMOUNT, MAX_BALANCE } from '../../src/core/money';
import type { Ledger, PaymentGateway } from '../../src/core/ports';
import type { Transaction } from '../../src/core/transaction';
import type { ReconcileOptions } from '../../src/core/use-cases/reconcile-deposits';
import { makeUseCases, type Caller, type UseCases } from '../../src/core/use-cases';
import { startSandboxGateway, type SandboxGateway } from '../support/sandbox-gateway';

const API_KEY = 'sk_test_reconcile';
const ADMIN: Caller = { id: 'admin-1', isAdmin: true };
const AMOUNT = 700;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const errorOf = async (p: Promise<unknown>): Promise<DomainError> => {
  const outcome = await p.then(() => 'resolved', (e: unknown) => e);
  if (!(outcome instanceof DomainError)) throw new Error(`expected a DomainError, got ${String(outcome)}`);
  return outcome;
};

/** Everything may be reconciled at once; nothing is abandoned unless a test says so. */
const OPTS: ReconcileOptions = { olderThanMs: 0, batchSize: 100, timeBudgetMs: 10_000, abandonAfterMs: 86_400_000 };

describe('reconcile deposits (use cases + HTTP adapter + sandbox)', () => {
  let sandbox: SandboxGateway;
  beforeAll(async () => {
    sandbox = await startSandboxGateway({ apiKey: API_KEY });
  });
  afterAll(() => sandbox.close());
  afterEach(() => sandbox.setFault());

  /** One "Lambda instance": its own adapter (and circuit) over the shared ledger state. */
  const instance = (state: MemoryState, payment: Partial<Config['payment']> = {}): UseCases =>
    makeUseCases({
      ledger: makeMemoryLedger(state),
      users: makeMemoryUserStore(state),
      health: { ping: async () => undefined },
      gateway: makeHttpPaymentGateway(
        { apiUrl: sandbox.url, apiKey: API_KEY, timeoutMs: 2000, maxRetries: 1, circuitThreshold: 5, circuitHalfOpenMs: 60_000, ...payment },
        { initialDelayMs: 1, maxDelayMs: 10 },
      ),
      clock: systemClock,
      ids: uuidV7Ids,
      limits: { maxAmount: CONTRACT_MAX_AMOUNT, idempotencyLeaseMs: 60_000, idempotencyTtlMs: 86_400_000 },
    });

  const setup = async (payment: Partial<Config['payment']> = {}) => {
    const state = createMemoryState();
    const ledger: Ledger = makeMemoryLedger(state);
    const api = instance(state, payment);
    const user: Caller = { id: `user-${randomUUID()}`, isAdmin: false };
    await api.createUser(user, { email: 'ada@example.com', name: 'Ada' });
    const deposit = (paymentToken: string, idempotencyKey?: string) =>
      api.createDeposit(user, { userId: user.id, amount: AMOUNT, currency: 'USD', paymentToken, ...(idempotencyKey && { idempotencyKey }) });
    const balance = async () => (await ledger.getBalances(user.id)).find((b) => b.currency === 'USD')?.available ?? 0;
    const get = async (id: string): Promise<Transaction | null> => ledger.getTransaction(id);
    /** Credits `amount` straight through the ledger: more than any one request may carry. */
    const seed = async (amount: number): Promise<void> => {
      const now = systemClock.now();
      const d = await ledger.createDeposit({
        id: uuidv7(), type: 'deposit', status: 'pending', userId: user.id, amount, currency: 'USD', metadata: {}, createdAt: now, updatedAt: now,
      });
      await ledger.settle({ id: d.id, status: 'completed', now });
    };
    return { state, ledger, api, user, deposit, balance, get, seed };
  };

  it('settles tok_pending deposits exactly once while two reconcilers and admin PATCHes race', async () => {
    const w = await setup();
    const pending = await Promise.all(Array.from({ length: 6 }, () => w.deposit('tok_pending', randomUUID())));
    for (const p of pending) expect(p.transaction.status).toBe('pending');
    expect(await w.balance()).toBe(0);
    await sleep(5); // strictly older than the reconcilers' "now"

    const [a, b] = [instance(w.state), instance(w.state)];
    const patched = pending.slice(0, 2).map((p) => a.updateTransaction(ADMIN, { id: p.transaction.id, status: 'completed' }));
    const [r1, r2, ...patches] = await Promise.allSettled([a.reconcileDeposits(OPTS), b.reconcileDeposits(OPTS), ...patched]);

    if (r1?.status !== 'fulfilled' || r2?.status !== 'fulfilled') throw new Error('a reconciler threw');
    expect(r1.value.errors + r2.value.errors).toBe(0);
    const adminWins = patches.filter((p) => p.status === 'fulfilled').length;
    for (const p of patches) if (p.status === 'rejected') expect(p.reason).toBeInstanceOf(InvalidStateTransition);
    // Every deposit was settled by exactly one of them.
    expect(r1.value.completed + r2.value.completed + adminWins).toBe(6);
    for (const p of pending) expect((await w.get(p.transaction.id))?.status).toBe('completed');
    expect(await w.balance()).toBe(6 * AMOUNT);
    for (const p of pending) expect(sandbox.stats().charges[p.transaction.id]).toBe(1);

    // A later run finds nothing left to do.
    expect(await a.reconcileDeposits(OPTS)).toMatchObject({ examined: 0, completed: 0 });
    expect(await w.balance()).toBe(6 * AMOUNT);
  });

  it('a deposit an admin failed first is never credited by the reconcilers', async () => {
    const w = await setup();
    const { transaction } = await w.deposit('tok_pending');
    await w.api.updateTransaction(ADMIN, { id: transaction.id, status: 'failed' });
    await sleep(5);
    const reports = await Promise.all([instance(w.state).reconcileDeposits(OPTS), instance(w.state).reconcileDeposits(OPTS)]);
    for (const r of reports) expect(r.completed).toBe(0);
    expect((await w.get(transaction.id))?.status).toBe('failed');
    expect(await w.balance()).toBe(0);
  });

  it('an unknown outcome (timed out after charging) is found by key and completed; the client retry then credits nothing more', async () => {
    const w = await setup({ timeoutMs: 300, maxRetries: 0 });
    sandbox.setFault({ kind: 'timeout-after-processing', ms: 5000 });
    const key = randomUUID();
    const err = await errorOf(w.deposit('tok_ok', key));
    expect(err).toBeInstanceOf(PaymentGatewayError);
    const id = (err as PaymentGatewayError).depositId ?? '';
    const stored = await w.get(id);
    expect(stored).toMatchObject({ status: 'pending' });
    expect(stored?.paymentRef).toBeUndefined(); // the reconciler must look it up by deposit id
    await sleep(5);

    const report = await instance(w.state).reconcileDeposits(OPTS);
    expect(report).toMatchObject({ examined: 1, completed: 1, errors: 0 });
    expect(await w.balance()).toBe(AMOUNT);

    const requests = sandbox.stats().chargeRequests[id];
    const retried = await w.deposit('tok_ok', key);
    expect(retried.transaction).toMatchObject({ id, status: 'completed' });
    expect(sandbox.stats().chargeRequests[id]).toBe(requests); // not charged again
    expect(sandbox.stats().charges[id]).toBe(1);
    expect(await w.balance()).toBe(AMOUNT);
  });

  it('a deposit the gateway never saw stays pending, then is failed once abandoned — nothing charged, nothing credited', async () => {
    const w = await setup({ maxRetries: 0 });
    sandbox.setFault({ kind: 'drop' });
    const err = await errorOf(w.deposit('tok_ok', randomUUID()));
    expect(err).toBeInstanceOf(PaymentGatewayError);
    const id = (err as PaymentGatewayError).depositId ?? '';
    await sleep(5);

    expect(await instance(w.state).reconcileDeposits(OPTS)).toMatchObject({ examined: 1, stillPending: 1 });
    expect((await w.get(id))?.status).toBe('pending');

    const abandon = { ...OPTS, abandonAfterMs: 1 };
    const reports = await Promise.all([instance(w.state).reconcileDeposits(abandon), instance(w.state).reconcileDeposits(abandon)]);
    expect(reports.map((r) => r.failed).reduce((x, y) => x + y)).toBe(1);
    expect((await w.get(id))?.status).toBe('failed');
    expect(sandbox.stats().charges[id]).toBeUndefined();
    expect(await w.balance()).toBe(0);
  });

  it('a deposit whose credit the balance can no longer hold is failed by the reconciler (charged elsewhere meanwhile), not retried forever', async () => {
    const w = await setup();
    const { transaction } = await w.deposit('tok_pending');
    await w.seed(MAX_BALANCE - AMOUNT + 1);
    await sleep(5);
    expect(await instance(w.state).reconcileDeposits(OPTS)).toMatchObject({ examined: 1, completed: 0, failed: 1, errors: 0 });
    expect((await w.get(transaction.id))?.status).toBe('failed');
    expect(await w.balance()).toBe(MAX_BALANCE - AMOUNT + 1);
    expect(await instance(w.state).reconcileDeposits(OPTS)).toMatchObject({ examined: 0 });
  });

  it('a deposit that passed the balance check but cannot be credited when the charge succeeds: 422 naming the failed deposit, replayed for its key', async () => {
    const w = await setup();
    const fake = makeFakePaymentGateway();
    let charges = 0;
    // Another credit lands while the gateway charges this deposit.
    const racing: PaymentGateway = {
      charge: async (req) => {
        charges++;
        await w.seed(MAX_BALANCE - AMOUNT + 1);
        return fake.charge(req);
      },
      getPaymentStatus: (ref) => fake.getPaymentStatus(ref),
      refund: (req) => fake.refund(req),
      getRefundStatus: (ref) => fake.getRefundStatus(ref),
    };
    const api = makeUseCases({
      ledger: w.ledger, users: makeMemoryUserStore(w.state), health: { ping: async () => undefined }, gateway: racing,
      clock: systemClock, ids: uuidV7Ids, limits: { maxAmount: CONTRACT_MAX_AMOUNT, idempotencyLeaseMs: 60_000, idempotencyTtlMs: 86_400_000 },
    });
    const key = randomUUID();
    const input = { userId: w.user.id, amount: AMOUNT, currency: 'USD', idempotencyKey: key };
    const err = await errorOf(api.createDeposit(w.user, input));
    expect(err).toBeInstanceOf(BalanceOverflow);
    expect(err.code).toBe('balance_limit_exceeded');
    const [failed] = await w.ledger.listTransactions({ userId: w.user.id, limit: 1, status: 'failed' });
    expect(failed).toMatchObject({ type: 'deposit', amount: AMOUNT, status: 'failed' });
    expect(err.publicMessage).toContain(failed?.id);
    expect(await w.balance()).toBe(MAX_BALANCE - AMOUNT + 1);
    const replay = await errorOf(api.createDeposit(w.user, input));
    expect([replay.code, replay.replayed, replay.publicMessage]).toEqual(['balance_limit_exceeded', true, err.publicMessage]);
    expect(charges).toBe(1);
  });

  it('a deposit another settler failed for the balance limit while its charge succeeded: 422 naming it, not 402', async () => {
    const w = await setup();
    const fake = makeFakePaymentGateway();
    // While the gateway charges, the balance fills up and another settler (the
    // reconciler, an admin) completes the deposit first, which fails it for the limit.
    const racing: PaymentGateway = {
      charge: async (req) => {
        const result = await fake.charge(req);
        await w.seed(MAX_BALANCE - AMOUNT + 1);
        await w.ledger.settle({ id: req.depositId, status: 'completed', now: new Date().toISOString() });
        return result;
      },
      getPaymentStatus: (ref) => fake.getPaymentStatus(ref),
      refund: (req) => fake.refund(req),
      getRefundStatus: (ref) => fake.getRefundStatus(ref),
    };
    const api = makeUseCases({
      ledger: w.ledger, users: makeMemoryUserStore(w.state), health: { ping: async () => undefined }, gateway: racing,
      clock: systemClock, ids: uuidV7Ids, limits: { maxAmount: CONTRACT_MAX_AMOUNT, idempotencyLeaseMs: 60_000, idempotencyTtlMs: 86_400_000 },
    });
    const err = await errorOf(api.createDeposit(w.user, { userId: w.user.id, amount: AMOUNT, currency: 'USD', idempotencyKey: randomUUID() }));
    const [failed] = await w.ledger.listTransactions({ userId: w.user.id, limit: 1, status: 'failed' });
    expect(failed).toMatchObject({ type: 'deposit', amount: AMOUNT, status: 'failed' });
    expect(err).toBeInstanceOf(BalanceOverflow);
    expect(err.publicMessage).toContain(failed?.id);
    expect(await w.balance()).toBe(MAX_BALANCE - AMOUNT + 1);
  });

  it('a reconciler facing a broken gateway counts errors and leaves deposits pending', async () => {
    const w = await setup();
    const pending = await Promise.all([w.deposit('tok_pending'), w.deposit('tok_pending'), w.deposit('tok_pending')]);
    await sleep(5);
    sandbox.setFault({ kind: 'status', status: 500, times: Infinity });
    const report = await instance(w.state, { maxRetries: 1, circuitThreshold: 3 }).reconcileDeposits(OPTS);
    // 2 attempts for the first, 1 that opens the circuit for the second, a fast fail for the third.
    expect(report).toMatchObject({ examined: 3, errors: 3, completed: 0 });
    for (const p of pending) expect((await w.get(p.transaction.id))?.status).toBe('pending');

    sandbox.setFault();
    expect(await instance(w.state).reconcileDeposits(OPTS)).toMatchObject({ completed: 3 });
    expect(await w.balance()).toBe(3 * AMOUNT);
  });
});
