import { makeFakePaymentGateway, type FakeGatewayState } from '../../src/adapters/payment-gateway/fake-payment-gateway';
import { makeHttpPaymentGateway } from '../../src/adapters/payment-gateway/http-payment-gateway';
import { uuidv7 } from '../../src/adapters/system/system-clock';
import type { Config } from '../../src/config';
import { DomainError, PaymentGatewayError, ServiceUnavailable } from '../../src/core/errors';
import type { ChargeRequest } from '../../src/core/ports';
import { startSandboxGateway, type SandboxGateway } from '../support/sandbox-gateway';
import { describePaymentGatewayContract } from './payment-gateway-contract';

const API_KEY = 'sk_test_contract_secret_0123456789';

const paymentConfig = (url: string, over: Partial<Config['payment']> = {}): Config['payment'] => ({
  apiUrl: url,
  apiKey: API_KEY,
  timeoutMs: 2000,
  maxRetries: 2,
  circuitThreshold: 5,
  circuitHalfOpenMs: 60_000,
  ...over,
});
const fast = { initialDelayMs: 1, maxDelayMs: 10 };

describePaymentGatewayContract('fake', async () => {
  const state: FakeGatewayState = { payments: new Map() };
  return {
    gateway: makeFakePaymentGateway(state),
    chargesFor: (id) => ((state.payments.get(id)?.charged ?? 0) > 0 ? 1 : 0),
  };
});

describePaymentGatewayContract('http adapter + sandbox', async () => {
  const sandbox = await startSandboxGateway({ apiKey: API_KEY });
  return {
    gateway: makeHttpPaymentGateway(paymentConfig(sandbox.url), fast),
    chargesFor: (id) => sandbox.stats().charges[id] ?? 0,
    close: () => sandbox.close(),
  };
});

describe('http payment gateway: retries, errors, secrets', () => {
  let sandbox: SandboxGateway;
  beforeAll(async () => {
    sandbox = await startSandboxGateway({ apiKey: API_KEY });
  });
  afterAll(() => sandbox.close());
  afterEach(() => sandbox.setFault());

  const request = (paymentToken = 'tok_ok'): ChargeRequest => ({ depositId: uuidv7(), amount: 500, currency: 'EUR', paymentToken });

  const failureOf = async (p: Promise<unknown>): Promise<DomainError> => {
    const outcome = await p.then(() => 'resolved', (e: unknown) => e);
    if (!(outcome instanceof DomainError)) throw new Error(`expected a DomainError, got ${String(outcome)}`);
    // Never the key, the URL or the host in what a caller could see.
    const shown = JSON.stringify({ message: outcome.message, snapshot: outcome.snapshot() });
    expect(shown).not.toContain(API_KEY);
    expect(shown).not.toContain('127.0.0.1');
    return outcome;
  };

  it('sends the deposit id as Idempotency-Key on every attempt: 503, 429, a drop, then success is one charge', async () => {
    const gateway = makeHttpPaymentGateway(paymentConfig(sandbox.url, { maxRetries: 3 }), fast);
    sandbox.setFault({ kind: 'status', status: 503 }, { kind: 'status', status: 429, retryAfterSeconds: 0 }, { kind: 'drop' });
    const req = request();
    expect((await gateway.charge(req)).status).toBe('succeeded');
    expect(sandbox.stats().chargeRequests[req.depositId]).toBe(4);
    expect(sandbox.stats().charges[req.depositId]).toBe(1);
  });

  it('a timeout after the gateway charged is retried with the same key and finds the payment', async () => {
    const gateway = makeHttpPaymentGateway(paymentConfig(sandbox.url, { timeoutMs: 300 }), fast);
    sandbox.setFault({ kind: 'timeout-after-processing', ms: 5000 });
    const req = request();
    expect((await gateway.charge(req)).status).toBe('succeeded');
    expect(sandbox.stats().chargeRequests[req.depositId]).toBe(2);
    expect(sandbox.stats().charges[req.depositId]).toBe(1);
  });

  it('gives up after maxRetries with PaymentGatewayError naming the deposit', async () => {
    const gateway = makeHttpPaymentGateway(paymentConfig(sandbox.url, { maxRetries: 2 }), fast);
    sandbox.setFault({ kind: 'status', status: 500, times: Infinity });
    const req = request();
    const err = await failureOf(gateway.charge(req));
    expect(err).toBeInstanceOf(PaymentGatewayError);
    expect(err.message).toBe('Payment processing error');
    expect((err as PaymentGatewayError).depositId).toBe(req.depositId);
    expect(sandbox.stats().chargeRequests[req.depositId]).toBe(3);
  });

  it('a dropped connection after processing, every time, is an unknown outcome (502), charged once', async () => {
    const gateway = makeHttpPaymentGateway(paymentConfig(sandbox.url, { maxRetries: 1 }), fast);
    sandbox.setFault({ kind: 'drop', afterProcessing: true, times: Infinity });
    const req = request();
    const err = await failureOf(gateway.charge(req));
    expect(err).toBeInstanceOf(PaymentGatewayError);
    expect(err.message).toBe('Payment gateway unreachable');
    sandbox.setFault();
    expect(await gateway.getPaymentStatus({ depositId: req.depositId })).toMatchObject({ status: 'succeeded' });
    expect(sandbox.stats().charges[req.depositId]).toBe(1);
  });

  it.each([
    [400, 'Invalid payment request'],
    [403, 'Payment authorization failed'],
    [422, 'Payment processing failed'],
    [409, 'Payment processing error'],
  ])('does not retry a %i and maps it to "%s"', async (status, message) => {
    const gateway = makeHttpPaymentGateway(paymentConfig(sandbox.url), fast);
    sandbox.setFault({ kind: 'status', status, times: Infinity });
    const req = request();
    const err = await failureOf(gateway.charge(req));
    expect(err).toBeInstanceOf(PaymentGatewayError);
    expect(err.message).toBe(message);
    expect(sandbox.stats().chargeRequests[req.depositId]).toBe(1);
  });

  it('a wrong API key is "Payment authorization failed", not retried, and the key is not echoed', async () => {
    const gateway = makeHttpPaymentGateway({ ...paymentConfig(sandbox.url), apiKey: `${API_KEY}-wrong` }, fast);
    const before = sandbox.stats().unauthorized;
    const err = await failureOf(gateway.charge(request()));
    expect(err.message).toBe('Payment authorization failed');
    expect(JSON.stringify(err.snapshot())).not.toContain('-wrong');
    expect(sandbox.stats().unauthorized).toBe(before + 1);
  });

  it('an unreachable gateway is PaymentGatewayError without host or port in it', async () => {
    const closed = await startSandboxGateway({ apiKey: API_KEY });
    await closed.close();
    const gateway = makeHttpPaymentGateway(paymentConfig(`${closed.url}/v1`), fast);
    const err = await failureOf(gateway.charge(request()));
    expect(err).toBeInstanceOf(PaymentGatewayError);
    expect(err.message).not.toContain(new URL(closed.url).port);
  });

  it('a 422 whose body says card_declined is a decline even without a payment body', async () => {
    const stub: typeof fetch = async () =>
      new Response(JSON.stringify({ error: { type: 'card_declined', message: 'Declined' } }), { status: 422 });
    const gateway = makeHttpPaymentGateway(paymentConfig('https://gateway.invalid/v1'), { ...fast, fetch: stub });
    const req = request('tok_whatever');
    expect(await gateway.charge(req)).toEqual({ status: 'declined', paymentRef: req.depositId });
  });

  it('looks a payment up by key, never by charging again', async () => {
    const gateway = makeHttpPaymentGateway(paymentConfig(sandbox.url), fast);
    const req = request('tok_ok');
    expect(await gateway.getPaymentStatus({ depositId: req.depositId })).toBeNull();
    expect(sandbox.stats().chargeRequests[req.depositId]).toBeUndefined();
    expect(sandbox.stats().charges[req.depositId]).toBeUndefined();
  });

  it('an open circuit mid-call is an unknown outcome (502); the next call fails fast (503)', async () => {
    const gateway = makeHttpPaymentGateway(paymentConfig(sandbox.url, { maxRetries: 2, circuitThreshold: 4 }), fast);
    sandbox.setFault({ kind: 'status', status: 500, times: Infinity });
    await failureOf(gateway.charge(request())); // 3 failed attempts
    const second = request();
    const err = await failureOf(gateway.charge(second)); // 1 more opens the circuit; the retry is refused
    expect(err).toBeInstanceOf(PaymentGatewayError);
    expect(sandbox.stats().chargeRequests[second.depositId]).toBe(1);
    const third = request();
    const fastFail = await failureOf(gateway.charge(third));
    expect(fastFail).toBeInstanceOf(ServiceUnavailable);
    expect(sandbox.stats().chargeRequests[third.depositId]).toBeUndefined();
    // Status queries share the circuit.
    expect(await failureOf(gateway.getPaymentStatus({ depositId: third.depositId }))).toBeInstanceOf(ServiceUnavailable);
  });
});
