// Deposits through the real use cases, the memory ledger, the HTTP gateway adapter and
// the sandbox gateway, while the gateway misbehaves.
import { randomUUID } from 'node:crypto';
import { makeMemoryLedger } from '../../src/adapters/memory/memory-ledger';
import { makeMemoryUserStore } from '../../src/adapters/memory/memory-user-store';
import { createMemoryState } from '../../src/adapters/memory/memory-state';
import { makeHttpPaymentGateway } from '../../src/adapters/payment-gateway/http-payment-gateway';
import { systemClock, uuidV7Ids } from '../../src/adapters/system/system-clock';
import type { Config } from '../../src/config';
import { DomainError, PaymentFailed, PaymentGatewayError, ServiceUnavailable } from '../../src/core/errors';
import { CONTRACT_MAX_AMOUNT } from '../../src/core/money';
import type { Ledger } from '../../src/core/ports';
import { makeUseCases, type Caller, type UseCases } from '../../src/core/use-cases';
import { startSandboxGateway, type SandboxGateway } from '../support/sandbox-gateway';

const API_KEY = 'sk_test_deposit_faults';

interface World {
  uc: UseCases;
  ledger: Ledger;
  user: Caller;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const errorOf = async (p: Promise<unknown>): Promise<DomainError> => {
  const outcome = await p.then(() => 'resolved', (e: unknown) => e);
  if (!(outcome instanceof DomainError)) throw new Error(`expected a DomainError, got ${String(outcome)}`);
  return outcome;
};

describe('deposits under gateway faults (use cases + HTTP adapter + sandbox)', () => {
  let sandbox: SandboxGateway;
  beforeAll(async () => {
    sandbox = await startSandboxGateway({ apiKey: API_KEY });
  });
  afterAll(() => sandbox.close());
  afterEach(() => sandbox.setFault());

  /** A fresh ledger, a fresh adapter (own circuit) and a user with a profile. */
  const world = async (payment: Partial<Config['payment']> = {}): Promise<World> => {
    const state = createMemoryState();
    const ledger = makeMemoryLedger(state);
    const gateway = makeHttpPaymentGateway(
      { apiUrl: sandbox.url, apiKey: API_KEY, timeoutMs: 2000, maxRetries: 2, circuitThreshold: 5, circuitHalfOpenMs: 60_000, ...payment },
      { initialDelayMs: 1, maxDelayMs: 10 },
    );
    const uc = makeUseCases({
      ledger,
      users: makeMemoryUserStore(state),
      health: { ping: async () => undefined },
      gateway,
      clock: systemClock,
      ids: uuidV7Ids,
      limits: { maxAmount: CONTRACT_MAX_AMOUNT, idempotencyLeaseMs: 60_000, idempotencyTtlMs: 86_400_000 },
    });
    const user: Caller = { id: `user-${randomUUID()}`, isAdmin: false };
    await uc.createUser(user, { email: 'ada@example.com', name: 'Ada' });
    return { uc, ledger, user };
  };

  const deposit = (w: World, idempotencyKey?: string, paymentToken = 'tok_ok', amount = 1050) =>
    w.uc.createDeposit(w.user, { userId: w.user.id, amount, currency: 'USD', paymentToken, ...(idempotencyKey && { idempotencyKey }) });
  const balance = async (w: World): Promise<number> =>
    (await w.ledger.getBalances(w.user.id)).find((b) => b.currency === 'USD')?.available ?? 0;
  const deposits = (w: World) => w.ledger.listTransactions({ userId: w.user.id, limit: 100, type: 'deposit' });

  it('timeout after the gateway charged: 502 with the deposit pending; the retry with the key credits once, charged once', async () => {
    const w = await world({ maxRetries: 1, timeoutMs: 300 });
    sandbox.setFault({ kind: 'timeout-after-processing', ms: 5000, times: Infinity });
    const key = randomUUID();

    const err = await errorOf(deposit(w, key));
    expect(err).toBeInstanceOf(PaymentGatewayError);
    const [pending, ...others] = await deposits(w);
    expect(others).toEqual([]);
    expect(pending).toMatchObject({ status: 'pending', amount: 1050 });
    expect((err as PaymentGatewayError).depositId).toBe(pending?.id);
    expect(await balance(w)).toBe(0);
    const id = pending?.id ?? '';
    expect(sandbox.stats().chargeRequests[id]).toBe(2); // both attempts with the deposit id as key
    expect(sandbox.stats().charges[id]).toBe(1);

    sandbox.setFault();
    const retried = await deposit(w, key);
    expect(retried).toMatchObject({ replayed: false, transaction: { id, status: 'completed' } });
    const replayed = await deposit(w, key);
    expect(replayed).toMatchObject({ replayed: true, transaction: { id, status: 'completed' } });

    expect(await balance(w)).toBe(1050);
    expect((await deposits(w)).map((t) => t.id)).toEqual([id]);
    expect(sandbox.stats().charges[id]).toBe(1);
    expect(sandbox.stats().chargeRequests[id]).toBe(3); // the replay did not reach the gateway
  });

  it('5 consecutive 500s open the circuit: later deposits fail fast with 503 until it half-opens', async () => {
    const w = await world({ maxRetries: 0, circuitThreshold: 5, circuitHalfOpenMs: 500 });
    sandbox.setFault({ kind: 'status', status: 500, times: Infinity });
    for (let i = 0; i < 5; i++) expect(await errorOf(deposit(w))).toBeInstanceOf(PaymentGatewayError);
    const requestsWhenOpened = sandbox.stats().requests;

    const key = randomUUID();
    const open = await errorOf(deposit(w, key));
    expect(open).toBeInstanceOf(ServiceUnavailable);
    expect((open as ServiceUnavailable).retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(await errorOf(deposit(w, key))).toBeInstanceOf(ServiceUnavailable);
    expect(sandbox.stats().requests).toBe(requestsWhenOpened); // nothing reached the gateway

    // Half-open: one trial goes through; it fails, so the circuit opens again at once.
    await sleep(550);
    expect(await errorOf(deposit(w, key))).toBeInstanceOf(PaymentGatewayError);
    expect(sandbox.stats().requests).toBe(requestsWhenOpened + 1);
    expect(await errorOf(deposit(w, key))).toBeInstanceOf(ServiceUnavailable);
    expect(sandbox.stats().requests).toBe(requestsWhenOpened + 1);

    // The gateway recovers; after the next half-open the same key finishes the same deposit.
    sandbox.setFault();
    await sleep(550);
    const done = await deposit(w, key);
    expect(done.transaction.status).toBe('completed');
    expect(sandbox.stats().charges[done.transaction.id]).toBe(1);
    expect(await balance(w)).toBe(1050);
    expect((await deposit(w)).transaction.status).toBe('completed'); // closed again
    const all = await deposits(w);
    expect(all.filter((t) => t.status === 'pending')).toHaveLength(5); // the 5 unkeyed 502s wait for reconciliation
  });

  it('500, 429 and a dropped connection are retried: one charge, one credit', async () => {
    const w = await world({ maxRetries: 3 });
    sandbox.setFault({ kind: 'status', status: 500 }, { kind: 'status', status: 429, retryAfterSeconds: 0 }, { kind: 'drop' });
    const { transaction } = await deposit(w, randomUUID());
    expect(transaction.status).toBe('completed');
    expect(sandbox.stats().chargeRequests[transaction.id]).toBe(4);
    expect(sandbox.stats().charges[transaction.id]).toBe(1);
    expect(await balance(w)).toBe(1050);
  });

  it('a dropped connection after the charge, then success: one charge, one credit', async () => {
    const w = await world({ maxRetries: 2 });
    sandbox.setFault({ kind: 'drop', afterProcessing: true });
    const { transaction } = await deposit(w, randomUUID());
    expect(transaction.status).toBe('completed');
    expect(sandbox.stats().chargeRequests[transaction.id]).toBe(2);
    expect(sandbox.stats().charges[transaction.id]).toBe(1);
    expect(await balance(w)).toBe(1050);
  });

  it('declined: 402 naming the failed deposit, replayed on retry with the same key without calling the gateway', async () => {
    const w = await world();
    const key = randomUUID();
    const first = await errorOf(deposit(w, key, 'tok_declined'));
    expect(first).toBeInstanceOf(PaymentFailed);
    expect(first.code).toBe('payment_failed');
    const [failed] = await deposits(w);
    expect(failed).toMatchObject({ status: 'failed' });
    expect(first.transactionId).toBe(failed?.id);

    const requests = sandbox.stats().requests;
    const again = await errorOf(deposit(w, key, 'tok_declined'));
    expect(again.replayed).toBe(true);
    expect(again.snapshot()).toEqual(first.snapshot());
    expect(sandbox.stats().requests).toBe(requests);
    expect(await deposits(w)).toHaveLength(1);
    expect(await balance(w)).toBe(0);
    expect(sandbox.stats().charges[failed?.id ?? '']).toBeUndefined();
  });

  it('a gateway that keeps failing leaves the keyed deposit pending; the retry resumes it, never a second deposit', async () => {
    const w = await world({ maxRetries: 1 });
    sandbox.setFault({ kind: 'status', status: 503, times: 2 });
    const key = randomUUID();
    expect(await errorOf(deposit(w, key, 'tok_pending'))).toBeInstanceOf(PaymentGatewayError);
    const { transaction } = await deposit(w, key, 'tok_pending');
    expect(transaction.status).toBe('pending');
    expect(await deposits(w)).toHaveLength(1);
    expect(sandbox.stats().charges[transaction.id]).toBe(1);
    expect(await balance(w)).toBe(0); // credited when it settles (reconciliation or admin)
  });
});
