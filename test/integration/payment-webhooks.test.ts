// POST /webhooks/payments through its Lambda handler with real API Gateway v2 events,
// on the memory store and the built-in fake gateway: the signature guards the route,
// the body only names a deposit or a refund, the gateway's answer settles it — once.
import '../support/memory-http-env';

import { randomUUID } from 'node:crypto';
import { app, resetApp } from '../../src/composition-root';
import { sharedFakeGatewayState } from '../../src/adapters/payment-gateway/fake-payment-gateway';
import { uuidv7 } from '../../src/adapters/system/system-clock';
import { PaymentGatewayError, ServiceUnavailable } from '../../src/core/errors';
import { logger } from '../../src/observability/logger';
import { balanceOf, call, expectCommonHeaders, expectError, expectOk, fund, newUser, type HttpResponse, type TestUser } from '../support/invoke';
import { fakeGatewayRefundWebhook, fakeGatewayWebhook, settleFakePayment, settleFakeRefund, type FakeWebhook } from '../support/fake-gateway-webhooks';
import { adminToken } from '../support/tokens';

const SECRET = 'whsec_integration_0123456789abcdef0123';
process.env.PAYMENT_WEBHOOK_SECRET = SECRET;

afterAll(() => resetApp());

const post = (req: Pick<FakeWebhook, 'body' | 'headers'>, init: { base64?: boolean } = {}): Promise<HttpResponse> =>
  call('paymentWebhook', { body: req.body, headers: req.headers, ...init });
const received = (res: HttpResponse): void => expect(expectOk(res)).toEqual({ received: true });
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** A user with a `tok_pending` deposit of `amount`, still pending at the fake gateway. */
const pendingDeposit = async (label: string, amount = 700): Promise<{ user: TestUser; id: string }> => {
  const user = await newUser(label);
  const tx = expectOk(await call('createDeposit', { id: user.id, token: user.token, body: { amount, currency: 'USD', paymentToken: 'tok_pending' } }), 201);
  expect(tx.status).toBe('pending');
  return { user, id: tx.id as string };
};
const statusOf = async (id: string): Promise<string | undefined> => (await (await app()).storage.ledger.getTransaction(id))?.status;
/** Counts the wallet's status queries to the gateway (the real fake still answers). */
const gatewayQueries = async () => jest.spyOn((await app()).gateway, 'getPaymentStatus');

afterEach(() => jest.restoreAllMocks());

describe('without PAYMENT_WEBHOOK_SECRET', () => {
  it('the route is 404 not_found, even for a well-signed event, and nothing changes', async () => {
    const { user, id } = await pendingDeposit('nosecret');
    delete process.env.PAYMENT_WEBHOOK_SECRET;
    try {
      expectError(await post(fakeGatewayWebhook(SECRET, id)), 404, 'not_found');
      expectError(await post({ body: '{}', headers: {} }), 404, 'not_found');
    } finally {
      process.env.PAYMENT_WEBHOOK_SECRET = SECRET;
    }
    expect(await statusOf(id)).toBe('pending');
    expect(sharedFakeGatewayState().payments.get(id)?.status).toBe('pending'); // the gateway was not even asked
    expect(await balanceOf(user.id)).toBe(0);
  });
});

describe('the signature', () => {
  const signed = (id: string) => fakeGatewayWebhook(SECRET, id);

  it.each<[string, (id: string) => Pick<FakeWebhook, 'body' | 'headers'>]>([
    ['missing', (id) => ({ ...signed(id), headers: { 'content-type': 'application/json' } })],
    ['malformed', (id) => fakeGatewayWebhook(SECRET, id, { signature: 'v1=abc' })],
    ['made with another secret', (id) => fakeGatewayWebhook('whsec_someone_else_0123456789abcdef', id)],
    ['more than 300 s old', (id) => fakeGatewayWebhook(SECRET, id, { t: nowSeconds() - 301 })],
    ['more than 300 s ahead', (id) => fakeGatewayWebhook(SECRET, id, { t: nowSeconds() + 301 })],
    ['over another body', (id) => ({ ...signed(id), body: signed(id).body.replace('payment.succeeded', 'payment.failed') })],
    ['not hex', (id) => fakeGatewayWebhook(SECRET, id, { signature: `t=${nowSeconds()},v1=${'z'.repeat(64)}` })],
  ])('%s: 401 unauthenticated, the gateway not asked, nothing changed', async (_, request) => {
    const { user, id } = await pendingDeposit('sig');
    const res = await post(request(id));
    expectError(res, 401, 'unauthenticated');
    expect(await statusOf(id)).toBe('pending');
    expect(sharedFakeGatewayState().payments.get(id)?.status).toBe('pending');
    expect(await balanceOf(user.id)).toBe(0);
  });

  it('is checked before the body is read: a non-JSON body without a valid signature is 401, not 400', async () => {
    expectError(await post({ body: 'not json', headers: {} }), 401, 'unauthenticated');
    expectError(await post({ body: 'not json', headers: { 'webhook-signature': `t=${nowSeconds()},v1=${'a'.repeat(64)}` } }), 401, 'unauthenticated');
  });

  it('accepts one valid v1 among several (secret rotation), and a base64-encoded body verified on its bytes', async () => {
    const a = await pendingDeposit('rot');
    const t = nowSeconds();
    const req = fakeGatewayWebhook(SECRET, a.id, { t });
    const old = fakeGatewayWebhook('whsec_previous_0123456789abcdef0123', a.id, { event: req.event, t }).headers['webhook-signature'] ?? '';
    received(await post({ ...req, headers: { ...req.headers, 'webhook-signature': `${old},${req.headers['webhook-signature']?.split(',')[1] ?? ''}` } }));
    expect(await statusOf(a.id)).toBe('completed');

    const b = await pendingDeposit('b64');
    received(await post(signed(b.id), { base64: true }));
    expect(await statusOf(b.id)).toBe('completed');
  });
});

describe('a verified event', () => {
  it('settles the pending deposit from the gateway\'s answer, credited in the same step, and answers 200 {"received":true}', async () => {
    const { user, id } = await pendingDeposit('ok', 950);
    const res = await post(fakeGatewayWebhook(SECRET, id));
    received(res);
    expectCommonHeaders(res);
    expect(await statusOf(id)).toBe('completed');
    expect(await balanceOf(user.id)).toBe(950);
  });

  it('is a hint, never the truth: payment.failed for a payment the gateway says succeeded completes it; payment.succeeded for a declined one fails it', async () => {
    const a = await pendingDeposit('hint-a');
    received(await post(fakeGatewayWebhook(SECRET, a.id, { type: 'payment.failed' })));
    expect(await statusOf(a.id)).toBe('completed');
    expect(await balanceOf(a.user.id)).toBe(700);

    const b = await pendingDeposit('hint-b');
    settleFakePayment(b.id, 'declined');
    received(await post(fakeGatewayWebhook(SECRET, b.id, { type: 'payment.succeeded' })));
    expect(await statusOf(b.id)).toBe('failed');
    expect(await balanceOf(b.user.id)).toBe(0);
  });

  it('leaves the deposit pending while the gateway still says pending (reconciliation stays the backstop)', async () => {
    const { user, id } = await pendingDeposit('still');
    (await gatewayQueries()).mockResolvedValue({ status: 'pending', paymentRef: `pay_${id}` });
    received(await post(fakeGatewayWebhook(SECRET, id)));
    expect(await statusOf(id)).toBe('pending');
    expect(await balanceOf(user.id)).toBe(0);
  });

  it('duplicates, at once or later, credit once; a repeat for a settled deposit is one read: no gateway call, no write', async () => {
    const { user, id } = await pendingDeposit('dup');
    const req = fakeGatewayWebhook(SECRET, id);
    const answers = await Promise.all(Array.from({ length: 5 }, () => post(req)));
    for (const res of answers) received(res);
    expect(await statusOf(id)).toBe('completed');
    expect(await balanceOf(user.id)).toBe(700);

    const { storage } = await app();
    const queries = await gatewayQueries();
    const settles = jest.spyOn(storage.ledger, 'settle');
    const reads = jest.spyOn(storage.ledger, 'getTransaction');
    received(await post(fakeGatewayWebhook(SECRET, id, { event: req.event })));
    expect([queries.mock.calls.length, settles.mock.calls.length, reads.mock.calls.length]).toEqual([0, 0, 1]);
    expect(await balanceOf(user.id)).toBe(700);
  });

  it('reordered: payment.failed arriving after payment.succeeded changes nothing more', async () => {
    const { user, id } = await pendingDeposit('order');
    received(await post(fakeGatewayWebhook(SECRET, id, { type: 'payment.succeeded' })));
    received(await post(fakeGatewayWebhook(SECRET, id, { type: 'payment.failed' })));
    expect(await statusOf(id)).toBe('completed');
    expect(await balanceOf(user.id)).toBe(700);
  });

  it('for a deposit already settled by an admin: 200 and nothing more, the gateway not asked', async () => {
    const { user, id } = await pendingDeposit('admin');
    expectOk(await call('updateTransaction', { id, token: await adminToken(), body: { status: 'failed' } }));
    const queries = await gatewayQueries();
    received(await post(fakeGatewayWebhook(SECRET, id)));
    expect(queries).not.toHaveBeenCalled();
    expect(await statusOf(id)).toBe('failed');
    expect(await balanceOf(user.id)).toBe(0);
  });

  it('names nothing we can settle: unknown ids, malformed ids, refunds not yet known, other transactions, unknown types, unusable data → 200, nothing changes', async () => {
    const u = await newUser('other');
    await fund(u, 500);
    const withdrawal = expectOk(await call('createWithdrawal', { id: u.id, token: u.token, body: { amount: 100, currency: 'USD' } }), 201);
    const queries = await gatewayQueries();
    const event = (type: string, data: unknown) => ({ id: `evt_${randomUUID()}`, type, data });
    const bodies = [
      event('payment.succeeded', { depositId: uuidv7() }),
      event('payment.succeeded', { depositId: 'not-a-uuid' }),
      event('payment.succeeded', { depositId: 42 }),
      event('payment.succeeded', { paymentRef: 'pay_123' }),
      event('refund.succeeded', { refundId: uuidv7() }),
      event('payment.succeeded', { depositId: withdrawal.id }),
      event('charge.dispute.created', { depositId: withdrawal.id }),
      event('toString', {}),
      event('payment.succeeded', 'not an object'),
      { type: 'payment.succeeded' },
      {},
    ];
    for (const body of bodies) received(await post(fakeGatewayWebhook(SECRET, '', { event: body as never })));
    expect(queries).not.toHaveBeenCalled();
    expect(await balanceOf(u.id)).toBe(400);
    expect(await statusOf(withdrawal.id)).toBe('completed');
  });

  it('ignores unknown fields', async () => {
    const { id } = await pendingDeposit('extra');
    const req = fakeGatewayWebhook(SECRET, id);
    const body = { ...req.event, livemode: false, data: { ...req.event.data, amount: 1, object: { nested: true } } };
    received(await post(fakeGatewayWebhook(SECRET, id, { event: body })));
    expect(await statusOf(id)).toBe('completed');
  });

  it.each(['[]', '"payment.succeeded"', 'null', '42', 'true', 'not json', '{"id":', ''])('400 invalid_request for a signed body that is not a JSON object: %j', async (body) => {
    expectError(await post(fakeGatewayWebhook(SECRET, '', { event: body as never })), 400, 'invalid_request');
  });

  it('413 payload_too_large for a signed body over 16 KiB', async () => {
    const { id } = await pendingDeposit('big');
    const req = fakeGatewayWebhook(SECRET, id);
    const big = { ...req.event, padding: 'x'.repeat(16 * 1024) };
    expectError(await post(fakeGatewayWebhook(SECRET, id, { event: big })), 413, 'payload_too_large');
    expect(await statusOf(id)).toBe('pending');
  });

  it('logs every verified event with its id and what became of it, and the reason of a refusal without the header', async () => {
    const { id } = await pendingDeposit('log');
    const info = jest.spyOn(logger, 'info');
    const warn = jest.spyOn(logger, 'warn');
    const req = fakeGatewayWebhook(SECRET, id);
    const res = await post(req);
    received(res);
    expect(info).toHaveBeenCalledWith('payment webhook', expect.objectContaining({
      requestId: res.awsRequestId, eventId: req.event.id, type: 'payment.succeeded', outcome: 'settled', transactionId: id, status: 'completed',
    }));
    received(await post(req));
    expect(info).toHaveBeenCalledWith('payment webhook', expect.objectContaining({ eventId: req.event.id, outcome: 'already_settled' }));
    const ignored = fakeGatewayWebhook(SECRET, '', { event: { id: 'evt_unknown_type', type: 'dispute.opened', data: {} } as never });
    received(await post(ignored));
    expect(info).toHaveBeenCalledWith('payment webhook', expect.objectContaining({ eventId: 'evt_unknown_type', outcome: 'ignored', reason: 'unknown_type' }));

    const forged = fakeGatewayWebhook('whsec_forger_0123456789abcdef0123', id);
    expectError(await post(forged), 401, 'unauthenticated');
    expect(warn).toHaveBeenCalledWith('webhook signature refused', expect.objectContaining({ reason: 'mismatch' }));
    expect(JSON.stringify(warn.mock.calls)).not.toContain(forged.headers['webhook-signature']?.split('v1=')[1]);
  });
});

describe('a verified refund event', () => {
  /** A `tok_refund_pending` deposit of 500, refunded in part by an admin: pending at the fake gateway, 200 debited. */
  const pendingRefund = async (label: string): Promise<{ user: TestUser; depositId: string; refundId: string }> => {
    const user = await newUser(label);
    const d = expectOk(await call('createDeposit', { id: user.id, token: user.token, body: { amount: 500, currency: 'USD', paymentToken: 'tok_refund_pending' } }), 201);
    const r = expectOk(await call('createRefund', { id: d.id, token: await adminToken(), body: { amount: 200 } }), 201);
    expect(r.status).toBe('pending');
    expect(await balanceOf(user.id)).toBe(300);
    return { user, depositId: d.id as string, refundId: r.id as string };
  };
  const refundQueries = async () => jest.spyOn((await app()).gateway, 'getRefundStatus');

  it('settles the pending refund from the gateway\'s answer, never the event\'s type: succeeded completes it; declined fails it and credits the owner back once', async () => {
    const a = await pendingRefund('rf-ok');
    received(await post(fakeGatewayRefundWebhook(SECRET, a.refundId, { type: 'refund.failed' })));
    expect(await statusOf(a.refundId)).toBe('completed');
    expect(await balanceOf(a.user.id)).toBe(300);

    const b = await pendingRefund('rf-declined');
    settleFakeRefund(b.refundId, 'declined');
    const req = fakeGatewayRefundWebhook(SECRET, b.refundId, { type: 'refund.failed' });
    expect(req.event.data).toEqual({ refundId: b.refundId, paymentRef: `re_${b.refundId}` });
    received(await post(req));
    received(await post(fakeGatewayRefundWebhook(SECRET, b.refundId, { event: req.event })));
    expect(await statusOf(b.refundId)).toBe('failed');
    expect(await balanceOf(b.user.id)).toBe(500);
  });

  it('leaves the refund pending while the gateway still says pending: 200, the money stays debited', async () => {
    const { user, depositId, refundId } = await pendingRefund('rf-still');
    const queries = (await refundQueries()).mockResolvedValue({ status: 'pending', paymentRef: `re_${refundId}` });
    received(await post(fakeGatewayRefundWebhook(SECRET, refundId)));
    expect(queries).toHaveBeenCalledWith({ refundId, paymentRef: `re_${refundId}` });
    expect(await statusOf(refundId)).toBe('pending');
    expect(await balanceOf(user.id)).toBe(300);
    expect(await statusOf(depositId)).toBe('completed');
  });

  it('a refund event naming a deposit (or a deposit event naming a refund) changes nothing', async () => {
    const { user, depositId, refundId } = await pendingRefund('rf-wrong');
    const queries = await refundQueries();
    received(await post(fakeGatewayRefundWebhook(SECRET, depositId)));
    received(await post(fakeGatewayWebhook(SECRET, refundId)));
    expect(queries).not.toHaveBeenCalled();
    expect(await statusOf(refundId)).toBe('pending');
    expect(await balanceOf(user.id)).toBe(300);
  });
});

describe('when the gateway or storage is unreachable', () => {
  it.each([
    ['the gateway fails (unknown outcome)', new PaymentGatewayError('Payment processing error')],
    ['the gateway circuit is open', new ServiceUnavailable()],
  ])('%s: 503 service_unavailable with Retry-After, nothing changes; the redelivery settles it', async (_, error) => {
    const { user, id } = await pendingDeposit('gw503');
    const req = fakeGatewayWebhook(SECRET, id);
    const queries = (await gatewayQueries()).mockRejectedValueOnce(error);
    const res = await post(req);
    expectError(res, 503, 'service_unavailable');
    expect(res.headers['retry-after']).toMatch(/^\d+$/);
    expect(queries).toHaveBeenCalledTimes(1);
    expect(await statusOf(id)).toBe('pending');
    expect(await balanceOf(user.id)).toBe(0);

    received(await post(req));
    expect(await statusOf(id)).toBe('completed');
    expect(await balanceOf(user.id)).toBe(700);
  });

  it.each(['getTransaction', 'settle'] as const)('storage fails in %s: 503 with Retry-After, nothing changes; the redelivery settles it', async (method) => {
    const { user, id } = await pendingDeposit(`st-${method}`);
    const req = fakeGatewayWebhook(SECRET, id);
    jest.spyOn((await app()).storage.ledger, method).mockRejectedValueOnce(new ServiceUnavailable());
    const res = await post(req);
    expectError(res, 503, 'service_unavailable');
    expect(res.headers['retry-after']).toMatch(/^\d+$/);
    expect(await statusOf(id)).toBe('pending');
    expect(await balanceOf(user.id)).toBe(0);

    received(await post(req));
    expect(await statusOf(id)).toBe('completed');
  });

  it('an unexpected failure is 500 internal_error, never a throw out of the handler', async () => {
    const { id } = await pendingDeposit('boom');
    jest.spyOn((await app()).storage.ledger, 'getTransaction').mockRejectedValueOnce(new Error('socket hang up at db.internal:5432'));
    const res = await post(fakeGatewayWebhook(SECRET, id));
    expectError(res, 500, 'internal_error');
    expect(res.raw).not.toMatch(/db\.internal|5432/);
  });
});
