// End to end over HTTP: the sandbox gateway settles a pending payment by itself and its
// webhook sender posts the signed event to POST /webhooks/payments (the Lambda handler
// behind a local HTTP server), which asks the gateway through the HTTP adapter and
// settles the deposit — no reconciler, no admin. Then the sender's misbehaviours, a
// gateway that cannot answer, and deposit refunds, which announce themselves the same way.
import '../support/memory-http-env';

import { randomUUID } from 'node:crypto';
import { app, resetApp } from '../../src/composition-root';
import type { ReconcileOptions } from '../../src/core/use-cases/reconcile-deposits';
import { logger } from '../../src/observability/logger';
import { balanceOf, call, expectError, expectOk, newUser, type TestUser } from '../support/invoke';
import { serveRoute, type RouteServer } from '../support/route-server';
import { startSandboxGateway, type SandboxGateway } from '../support/sandbox-gateway';
import { signedWebhookRequest, startWebhookSender, type PaymentEvent, type WebhookDelivery, type WebhookSender } from '../support/sandbox-webhooks';
import { adminToken } from '../support/tokens';

const SECRET = 'whsec_sandbox_e2e_0123456789abcdef0123';
const API_KEY = 'sk_test_webhooks_e2e';
/** How long the sandbox leaves a payment or refund pending before it settles it by itself. */
const SETTLE_AFTER_MS = 100;

let sandbox: SandboxGateway;
let sender: WebhookSender;
let route: RouteServer;

beforeAll(async () => {
  process.env.PAYMENT_WEBHOOK_SECRET = SECRET;
  route = await serveRoute('paymentWebhook');
  sender = startWebhookSender({ url: route.url, secret: SECRET, initialDelayMs: 20, maxDelayMs: 100, maxAttempts: 6 });
  sandbox = await startSandboxGateway({ apiKey: API_KEY, settlePendingAfterMs: SETTLE_AFTER_MS, ...sender.hooks });
  process.env.PAYMENT_API_URL = sandbox.url;
  process.env.PAYMENT_API_KEY = API_KEY;
  process.env.PAYMENT_MAX_RETRIES = '0';
  // Failures provoked here must not open the adapter's circuit for the tests after them.
  process.env.PAYMENT_CIRCUIT_THRESHOLD = '100';
});
afterEach(async () => {
  await sender.idle();
  sandbox.setFault();
});
afterAll(async () => {
  sender.close();
  await Promise.all([sandbox.close(), route.close()]);
  await resetApp();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Waits (without asserting how long) until `ready` holds; fails after a generous bound. */
const eventually = async <T>(probe: () => Promise<T> | T, ready: (v: T) => boolean, what: string): Promise<T> => {
  for (const deadline = Date.now() + 15_000; ; await sleep(20)) {
    const v = await probe();
    if (ready(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
  }
};

const statusOf = async (id: string) => (await (await app()).storage.ledger.getTransaction(id))?.status;
const deliveriesFor = (id: string): WebhookDelivery[] => sender.deliveries().filter((d) => d.event.data.depositId === id || d.event.data.refundId === id);
/** A tok_pending deposit, left pending by the gateway's answer. */
const pendingDeposit = async (user: TestUser, amount = 700): Promise<string> => {
  const tx = expectOk(await call('createDeposit', { id: user.id, token: user.token, body: { amount, currency: 'USD', paymentToken: 'tok_pending' } }), 201);
  expect(tx.status).toBe('pending');
  return tx.id as string;
};
/** Settled and every webhook about it (a deposit or a refund) finished. */
const settled = async (id: string): Promise<void> => {
  await eventually(() => deliveriesFor(id).length, (n) => n > 0, `a webhook for ${id}`);
  await sender.idle();
};

it('settles a pending deposit seconds after the gateway does, through its signed webhook, without a reconciler', async () => {
  const user = await newUser('e2e');
  const id = await pendingDeposit(user);
  expect(await balanceOf(user.id)).toBe(0);

  await settled(id);
  const [delivery] = deliveriesFor(id);
  expect(delivery).toMatchObject({ delivered: true, attempts: [{ status: 200 }], event: { type: 'payment.succeeded', data: { depositId: id } } });
  expect(await statusOf(id)).toBe('completed');
  expect(await balanceOf(user.id)).toBe(700);
  expect(sandbox.stats().charges[id]).toBe(1);
});

it('a duplicate delivery (twice at once) credits once', async () => {
  const user = await newUser('dup');
  sender.misbehave('duplicate');
  const id = await pendingDeposit(user);
  await settled(id);
  const deliveries = deliveriesFor(id);
  expect(deliveries.map((d) => [d.event.id, d.delivered])).toEqual([[deliveries[0]?.event.id, true], [deliveries[0]?.event.id, true]]);
  expect(await statusOf(id)).toBe('completed');
  expect(await balanceOf(user.id)).toBe(700);
});

it('an out-of-order pair (payment.failed after payment.succeeded) is answered 200 and changes nothing more', async () => {
  const user = await newUser('ooo');
  sender.misbehave('out-of-order');
  const id = await pendingDeposit(user);
  await settled(id);
  expect(deliveriesFor(id).map((d) => [d.event.type, d.delivered])).toEqual([['payment.succeeded', true], ['payment.failed', true]]);
  expect(await statusOf(id)).toBe('completed');
  expect(await balanceOf(user.id)).toBe(700);
});

it.each(['stale-timestamp', 'bad-signature'] as const)('%s: the first attempt is refused with 401 and changes nothing; the re-signed retry settles', async (kind) => {
  const user = await newUser(kind);
  sender.misbehave(kind);
  const id = await pendingDeposit(user);
  await settled(id);
  const [delivery] = deliveriesFor(id);
  expect(delivery?.attempts).toEqual([{ status: 401, misbehaviour: kind }, { status: 200 }]);
  expect(await statusOf(id)).toBe('completed');
  expect(await balanceOf(user.id)).toBe(700);
});

it('a gateway that cannot answer the status query: 503 with Retry-After and nothing changes, until a retry gets through', async () => {
  const user = await newUser('gw');
  const id = await pendingDeposit(user);
  const paymentRef = (await (await app()).storage.ledger.getTransaction(id))?.paymentRef;
  // Every status query fails. The event is posted by hand here (the sandbox's own
  // announcement, when its timer settles the payment, meets the same fault).
  sandbox.setFault({ kind: 'status', status: 503, times: Infinity });
  const event: PaymentEvent = { id: `evt_${randomUUID()}`, type: 'payment.succeeded', created: 0, data: { depositId: id, ...(paymentRef && { paymentRef }) } };
  const res = await call('paymentWebhook', signedWebhookRequest(SECRET, event));
  expectError(res, 503, 'service_unavailable');
  expect(res.headers['retry-after']).toMatch(/^\d+$/);
  expect(await statusOf(id)).toBe('pending');
  expect(await balanceOf(user.id)).toBe(0);

  sandbox.setFault();
  expect(expectOk(await call('paymentWebhook', signedWebhookRequest(SECRET, event)))).toEqual({ received: true });
  expect(await statusOf(id)).toBe('completed');
  expect(await balanceOf(user.id)).toBe(700);
});

it('the sender retries a 503 with backoff until the wallet can settle', async () => {
  const user = await newUser('retry');
  // The charge goes through; the next two requests (the webhook's status queries) fail.
  sandbox.setFault({ kind: 'latency', ms: 1 }, { kind: 'status', status: 500, times: 2 });
  const id = await pendingDeposit(user);
  await settled(id);
  const [delivery] = deliveriesFor(id);
  expect(delivery?.attempts.map((a) => a.status)).toEqual([503, 503, 200]);
  expect(await statusOf(id)).toBe('completed');
  expect(await balanceOf(user.id)).toBe(700);
});

it('webhooks and the reconciler racing for the same deposits settle each exactly once', async () => {
  const user = await newUser('race');
  const ids = await Promise.all(Array.from({ length: 4 }, () => pendingDeposit(user, 100)));
  const { useCases } = await app();
  const opts: ReconcileOptions = { olderThanMs: 0, batchSize: 100, timeBudgetMs: 10_000, abandonAfterMs: 86_400_000 };
  await sleep(5); // strictly older than the reconciler's "now"
  const [report] = await Promise.all([useCases.reconcileDeposits(opts), ...ids.map(settled)]);
  await sender.idle();
  for (const id of ids) expect(await statusOf(id)).toBe('completed');
  expect(await balanceOf(user.id)).toBe(400);
  for (const id of ids) expect(deliveriesFor(id).every((d) => d.delivered)).toBe(true);
  expect(report.errors).toBe(0);
});

describe('deposit refunds', () => {
  let admin: string;
  beforeAll(async () => {
    admin = await adminToken(`admin-${randomUUID()}`);
  });
  afterEach(() => jest.restoreAllMocks());

  /** A completed deposit of 500 paid with `paymentToken`, every webhook about it finished. */
  const paidDeposit = async (user: TestUser, paymentToken: string): Promise<string> => {
    const tx = expectOk(await call('createDeposit', { id: user.id, token: user.token, body: { amount: 500, currency: 'USD', paymentToken } }), 201);
    expect(tx.status).toBe('completed');
    await settled(tx.id as string);
    return tx.id as string;
  };
  const refundDeposit = (depositId: string, amount: number) => call('createRefund', { id: depositId, token: admin, body: { amount } });
  /** A tok_refund_pending deposit refunded in part by an admin: 201 pending, the money debited at once. */
  const pendingRefund = async (user: TestUser, depositId: string): Promise<string> => {
    const r = expectOk(await refundDeposit(depositId, 200), 201);
    expect(r).toMatchObject({ type: 'refund', status: 'pending', amount: 200, refundOf: depositId });
    expect(await balanceOf(user.id)).toBe(300);
    return r.id as string;
  };
  const refundedOf = async (depositId: string) => (await (await app()).storage.ledger.getTransaction(depositId))?.refundedAmount;
  /** What the wallet's webhook handler made of each event about `id`, in order. */
  const outcomesFor = (log: jest.SpyInstance, id: string): unknown[] =>
    log.mock.calls.filter(([msg, fields]) => msg === 'payment webhook' && (fields as { transactionId?: string }).transactionId === id)
      .map(([, fields]) => (fields as { outcome: string }).outcome);

  it('a pending refund is settled by the gateway by itself and its signed refund.succeeded completes it, without a reconciler', async () => {
    const user = await newUser('rf');
    const depositId = await paidDeposit(user, 'tok_refund_pending');
    const log = jest.spyOn(logger, 'info');
    const refundId = await pendingRefund(user, depositId);

    await settled(refundId);
    const [delivery] = deliveriesFor(refundId);
    expect(delivery).toMatchObject({
      delivered: true, attempts: [{ status: 200 }], event: { type: 'refund.succeeded', data: { refundId, paymentRef: expect.stringMatching(/^re_/) } },
    });
    expect(outcomesFor(log, refundId)).toEqual(['settled']);
    expect(await statusOf(refundId)).toBe('completed');
    expect(await balanceOf(user.id)).toBe(300);
    expect(await refundedOf(depositId)).toBe(200);
    expect(sandbox.stats().refunded[refundId]).toBe(200);
  });

  it.each([
    ['duplicate', [['refund.succeeded', true], ['refund.succeeded', true]]],
    ['out-of-order', [['refund.succeeded', true], ['refund.failed', true]]],
  ] as const)('%s refund webhooks: answered 200, the refund completed once, nothing credited back', async (kind, sent) => {
    const user = await newUser(`rf-${kind}`);
    const depositId = await paidDeposit(user, 'tok_refund_pending');
    // The deposit's own event is out; the refund's is the next one.
    sender.misbehave(kind);
    const log = jest.spyOn(logger, 'info');
    const refundId = await pendingRefund(user, depositId);

    await settled(refundId);
    expect(deliveriesFor(refundId).map((d) => [d.event.type, d.delivered])).toEqual(sent);
    expect(outcomesFor(log, refundId).sort()).toEqual(['already_settled', 'settled']);
    expect(await statusOf(refundId)).toBe('completed');
    expect(await balanceOf(user.id)).toBe(300);
    expect(await refundedOf(depositId)).toBe(200);
  });

  it('a refund the gateway declines is announced as refund.failed, which finds it failed already: credited back once', async () => {
    const user = await newUser('rf-declined');
    const depositId = await paidDeposit(user, 'tok_refund_declined');
    const res = await refundDeposit(depositId, 200);
    expectError(res, 402, 'payment_failed');
    const refundId = res.body.error.transactionId as string;

    await settled(refundId);
    expect(deliveriesFor(refundId).map((d) => [d.event.type, d.delivered])).toEqual([['refund.failed', true]]);
    expect(await statusOf(refundId)).toBe('failed');
    expect(await balanceOf(user.id)).toBe(500);
    expect(await refundedOf(depositId)).toBe(0);
  });
});
