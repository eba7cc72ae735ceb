import { makeFakePaymentGateway, newFakeGatewayState } from '../../src/adapters/payment-gateway/fake-payment-gateway';
import { makeHttpPaymentGateway } from '../../src/adapters/payment-gateway/http-payment-gateway';
import { uuidv7 } from '../../src/adapters/system/system-clock';
import type { Config } from '../../src/config';
import { DomainError, PaymentGatewayError, ServiceUnavailable } from '../../src/core/errors';
import type { ChargeRequest, PaymentGateway, RefundRequest } from '../../src/core/ports';
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
  const state = newFakeGatewayState();
  return {
    gateway: makeFakePaymentGateway(state),
    chargesFor: (id) => ((state.payments.get(id)?.charged ?? 0) > 0 ? 1 : 0),
    refundedFor: (id) => state.refunds.get(id)?.refunded ?? 0,
  };
});

describePaymentGatewayContract('http adapter + sandbox', async () => {
  const sandbox = await startSandboxGateway({ apiKey: API_KEY });
  return {
    gateway: makeHttpPaymentGateway(paymentConfig(sandbox.url), fast),
    chargesFor: (id) => sandbox.stats().charges[id] ?? 0,
    refundedFor: (id) => sandbox.stats().refunded[id] ?? 0,
    faults: {
      loseAnswers: () => sandbox.setFault({ kind: 'drop', afterProcessing: true, times: Infinity }),
      clear: () => sandbox.setFault(),
    },
    close: () => sandbox.close(),
  };
}, { canFail: true });

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
    // Status queries and refunds share the circuit.
    expect(await failureOf(gateway.getPaymentStatus({ depositId: third.depositId }))).toBeInstanceOf(ServiceUnavailable);
    const refund: RefundRequest = { refundId: uuidv7(), depositId: third.depositId, paymentRef: 'pay_x', amount: 1, currency: 'EUR' };
    expect(await failureOf(gateway.refund(refund))).toBeInstanceOf(ServiceUnavailable);
    expect(await failureOf(gateway.getRefundStatus({ refundId: refund.refundId }))).toBeInstanceOf(ServiceUnavailable);
    expect(sandbox.stats().refundRequests[refund.refundId]).toBeUndefined();
  });

  /** A refund of the whole of a fresh tok_ok deposit. */
  const refundable = async (gateway: PaymentGateway): Promise<RefundRequest> => {
    const req = request();
    const { paymentRef } = await gateway.charge(req);
    return { refundId: uuidv7(), depositId: req.depositId, paymentRef, amount: req.amount, currency: req.currency };
  };

  it('sends the refund id as Idempotency-Key on every attempt: 503, 429, a drop, then success is one refund', async () => {
    const gateway = makeHttpPaymentGateway(paymentConfig(sandbox.url, { maxRetries: 3 }), fast);
    const r = await refundable(gateway);
    sandbox.setFault({ kind: 'status', status: 503 }, { kind: 'status', status: 429, retryAfterSeconds: 0 }, { kind: 'drop' });
    expect((await gateway.refund(r)).status).toBe('succeeded');
    expect(sandbox.stats().refundRequests[r.refundId]).toBe(4);
    expect(sandbox.stats().refunded[r.refundId]).toBe(r.amount);
  });

  it('a timeout after the gateway refunded is retried with the same key and finds the refund', async () => {
    const gateway = makeHttpPaymentGateway(paymentConfig(sandbox.url, { timeoutMs: 300 }), fast);
    const r = await refundable(gateway);
    sandbox.setFault({ kind: 'timeout-after-processing', ms: 5000 });
    expect((await gateway.refund(r)).status).toBe('succeeded');
    expect(sandbox.stats().refundRequests[r.refundId]).toBe(2);
    expect(sandbox.stats().refunded[r.refundId]).toBe(r.amount);
  });

  it('a refund that keeps failing gives up with PaymentGatewayError naming the refund', async () => {
    const gateway = makeHttpPaymentGateway(paymentConfig(sandbox.url, { maxRetries: 2 }), fast);
    const r = await refundable(gateway);
    sandbox.setFault({ kind: 'status', status: 500, times: Infinity });
    const err = await failureOf(gateway.refund(r));
    expect(err).toBeInstanceOf(PaymentGatewayError);
    expect(err.message).toBe('Payment processing error');
    expect((err as PaymentGatewayError).depositId).toBe(r.refundId);
    expect(sandbox.stats().refundRequests[r.refundId]).toBe(3);
    expect(sandbox.stats().refunded[r.refundId]).toBeUndefined();
  });

  it('without a payment ref the refund looks the payment up by key; one the gateway never took is declined without a refund request', async () => {
    const gateway = makeHttpPaymentGateway(paymentConfig(sandbox.url), fast);
    const r = { ...(await refundable(gateway)), paymentRef: undefined };
    expect((await gateway.refund(r)).status).toBe('succeeded');
    expect(sandbox.stats().refunded[r.refundId]).toBe(r.amount);
    const never: RefundRequest = { refundId: uuidv7(), depositId: uuidv7(), amount: 100, currency: 'EUR' };
    expect(await gateway.refund(never)).toEqual({ status: 'declined', paymentRef: never.refundId });
    expect(sandbox.stats().refundRequests[never.refundId]).toBeUndefined();
    expect(sandbox.stats().charges[never.depositId]).toBeUndefined();
  });

  it('the same refund id with another amount is refused (409): PaymentGatewayError, nothing more given back', async () => {
    const gateway = makeHttpPaymentGateway(paymentConfig(sandbox.url), fast);
    const r = { ...(await refundable(gateway)), amount: 100 };
    expect((await gateway.refund(r)).status).toBe('succeeded');
    const err = await failureOf(gateway.refund({ ...r, amount: 200 }));
    expect(err).toBeInstanceOf(PaymentGatewayError);
    expect(err.message).toBe('Payment processing error');
    expect(sandbox.stats().refundRequests[r.refundId]).toBe(2);
    expect(sandbox.stats().refunded[r.refundId]).toBe(100);
  });

  it.each(['refund_declined', 'amount_exceeds_payment', 'payment_not_refundable'])(
    'a refund answered 422 with error %s is a decline even without a refund body', async (type) => {
      const stub: typeof fetch = async () => new Response(JSON.stringify({ error: { type, message: 'Refused' } }), { status: 422 });
      const gateway = makeHttpPaymentGateway(paymentConfig('https://gateway.invalid/v1'), { ...fast, fetch: stub });
      const r: RefundRequest = { refundId: uuidv7(), depositId: uuidv7(), paymentRef: 'pay_1', amount: 100, currency: 'EUR' };
      expect(await gateway.refund(r)).toEqual({ status: 'declined', paymentRef: r.refundId });
    },
  );

  it('a refund answered 422 card_declined (a charge refusal) is "Payment processing failed", not a decline', async () => {
    const stub: typeof fetch = async () =>
      new Response(JSON.stringify({ error: { type: 'card_declined', message: 'Declined' } }), { status: 422 });
    const gateway = makeHttpPaymentGateway(paymentConfig('https://gateway.invalid/v1'), { ...fast, fetch: stub });
    const r: RefundRequest = { refundId: uuidv7(), depositId: uuidv7(), paymentRef: 'pay_1', amount: 100, currency: 'EUR' };
    const err = await failureOf(gateway.refund(r));
    expect(err).toBeInstanceOf(PaymentGatewayError);
    expect(err.message).toBe('Payment processing failed');
  });

  it('looks a refund up by key, never by refunding', async () => {
    const gateway = makeHttpPaymentGateway(paymentConfig(sandbox.url), fast);
    const r = await refundable(gateway);
    expect(await gateway.getRefundStatus({ refundId: r.refundId })).toBeNull();
    expect(sandbox.stats().refundRequests[r.refundId]).toBeUndefined();
    expect(sandbox.stats().refunded[r.refundId]).toBeUndefined();
  });

  it('sends the refund as POST /refunds { payment_id, amount, currency } with the refund id as Idempotency-Key', async () => {
    const seen: Array<{ url: string; method: string | undefined; key: string | null; body: unknown }> = [];
    const stub: typeof fetch = async (input, init) => {
      const headers = new Headers(init?.headers);
      seen.push({ url: String(input), method: init?.method, key: headers.get('idempotency-key'), body: init?.body ? JSON.parse(String(init.body)) : undefined });
      return new Response(JSON.stringify({ id: 're_1', status: 'succeeded' }), { status: 201 });
    };
    const gateway = makeHttpPaymentGateway(paymentConfig('https://gateway.invalid/v1'), { ...fast, fetch: stub });
    const r: RefundRequest = { refundId: uuidv7(), depositId: uuidv7(), paymentRef: 'pay_1', amount: 100, currency: 'EUR' };
    expect(await gateway.refund(r)).toEqual({ status: 'succeeded', paymentRef: 're_1' });
    await gateway.getRefundStatus({ refundId: r.refundId });
    await gateway.getRefundStatus({ refundId: r.refundId, paymentRef: 're_1' });
    expect(seen).toEqual([
      { url: 'https://gateway.invalid/v1/refunds', method: 'POST', key: r.refundId, body: { payment_id: 'pay_1', amount: 100, currency: 'EUR' } },
      { url: `https://gateway.invalid/v1/refunds?idempotency_key=${r.refundId}`, method: 'GET', key: null, body: undefined },
      { url: 'https://gateway.invalid/v1/refunds/re_1', method: 'GET', key: null, body: undefined },
    ]);
  });
});
