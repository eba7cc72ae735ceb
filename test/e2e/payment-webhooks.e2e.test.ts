// The README's local webhook setup, end to end: serverless-offline (the `npm start`
// stack) with PAYMENT_WEBHOOK_SECRET and the sandbox gateway over HTTP, whose webhook
// sender posts to the server's POST /webhooks/payments when it settles a payment by
// itself. A pending deposit completes without a reconciler run or an admin.
import { randomUUID } from 'node:crypto';
import { startOffline, type OfflineServer } from '../support/offline';
import { startSandboxGateway, type SandboxGateway } from '../support/sandbox-gateway';
import { signedWebhookRequest, startWebhookSender, type WebhookSender } from '../support/sandbox-webhooks';
import { e2eToken } from '../support/tokens-e2e';

const JWT_SECRET = 'e2e-secret-at-least-32-characters-long';
const WEBHOOK_SECRET = 'whsec_e2e_0123456789abcdef0123456789';
const API_KEY = 'sk_test_e2e_webhooks';

(process.env.API_URL ? describe.skip : describe)('payment webhooks over serverless-offline with the sandbox gateway', () => {
  let server: OfflineServer;
  let sandbox: SandboxGateway;
  // Started once the server's URL is known; the sandbox (started first) reaches it through this variable.
  let sender: WebhookSender | undefined;

  beforeAll(async () => {
    sandbox = await startSandboxGateway({ apiKey: API_KEY, settlePendingAfterMs: 300, onSettled: (p) => sender?.paymentSettled(p) });
    server = await startOffline({
      STORAGE: 'memory', AUTH_JWT_SECRET: JWT_SECRET, LOG_LEVEL: 'ERROR',
      PAYMENT_API_URL: sandbox.url, PAYMENT_API_KEY: API_KEY, PAYMENT_WEBHOOK_SECRET: WEBHOOK_SECRET,
    });
    process.env.AUTH_JWT_SECRET = JWT_SECRET;
    sender = startWebhookSender({ url: `${server.url}/webhooks/payments`, secret: WEBHOOK_SECRET, initialDelayMs: 50, maxDelayMs: 500 });
  }, 90_000);
  afterAll(async () => {
    sender?.close();
    await Promise.all([server?.stop(), sandbox?.close()]);
  });

  const call = async (method: string, path: string, token?: string, body?: unknown) => {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: { ...(token && { authorization: `Bearer ${token}` }), ...(body !== undefined && { 'content-type': 'application/json' }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: await res.json() as any }; // eslint-disable-line @typescript-eslint/no-explicit-any
  };

  it('a pending deposit is settled by the sandbox\'s signed webhook', async () => {
    const id = `e2e-${randomUUID()}`;
    const token = await e2eToken(id);
    expect((await call('POST', '/users', token, { email: `${id}@example.com`, name: 'Web Hook' })).status).toBe(201);
    const dep = await call('POST', `/users/${id}/deposits`, token, { amount: 1234, currency: 'USD', paymentToken: 'tok_pending' });
    expect(dep.body).toMatchObject({ status: 'pending' });

    for (const deadline = Date.now() + 20_000; ; await new Promise((r) => setTimeout(r, 50))) {
      if ((await call('GET', `/transactions/${dep.body.id}`, token)).body.status === 'completed') break;
      if (Date.now() > deadline) throw new Error(`not settled; webhook deliveries: ${JSON.stringify(sender?.deliveries())}`);
    }
    await sender?.idle();
    const delivery = sender?.deliveries().find((d) => d.event.data.depositId === dep.body.id);
    expect(delivery).toMatchObject({ delivered: true, event: { type: 'payment.succeeded' } });
    const user = await call('GET', `/users/${id}`, token);
    expect(user.body.balances).toEqual([{ currency: 'USD', available: 1234, held: 0 }]);
  });

  it('verifies the bytes as they arrived: a signed body with odd spacing and non-ASCII passes; one byte changed is 401', async () => {
    const raw = '{ "id" : "evt_e2e_ü", "type":"dispute.opened",\n  "data": {} }';
    const ok = signedWebhookRequest(WEBHOOK_SECRET, raw);
    const accepted = await fetch(`${server.url}/webhooks/payments`, { method: 'POST', headers: ok.headers, body: ok.body });
    expect([accepted.status, await accepted.json()]).toEqual([200, { received: true }]);
    const refused = await fetch(`${server.url}/webhooks/payments`, { method: 'POST', headers: ok.headers, body: ok.body.replace('ü', 'u') });
    expect(refused.status).toBe(401);
  });
});
