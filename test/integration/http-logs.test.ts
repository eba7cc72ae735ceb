// Logs and metrics lines (Powertools writes JSON to stdout/stderr) never carry a
// bearer token, the JWT secret, the payment API key or a payment token, on success
// paths, on 401s, and on 5xx paths (storage failure, gateway failure, bad config).
const JWT_SECRET = 'logs-test-jwt-secret-9f8e7d6c5b4a3210';
const PAYMENT_API_KEY = 'sk_test_logs_3c1d9a7b5e2f4680';
process.env.STORAGE = 'memory';
process.env.AUTH_JWT_SECRET = JWT_SECRET;
process.env.LOG_LEVEL = 'DEBUG';
process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
// Operators may turn these on; nothing secret may appear even then.
process.env.POWERTOOLS_LOGGER_LOG_EVENT = 'true';
process.env.POWERTOOLS_METRICS_DISABLED = 'false';
delete process.env.AUTH_JWKS_URL;
delete process.env.AUTH_ISSUER;
delete process.env.AUTH_AUDIENCE;
delete process.env.APP_SECRET_ID;
delete process.env.MAX_AMOUNT;

import { randomUUID } from 'node:crypto';
import { app, resetApp } from '../../src/composition-root';
import { call, expectError, expectOk, type HttpResponse } from '../support/invoke';
import { startSandboxGateway, type SandboxGateway } from '../support/sandbox-gateway';
import { forgedToken, hs256, noneToken, oversizedHs256 } from '../support/tokens';

const PAYMENT_TOKEN = 'tok_ok';
const SECRET_PAYMENT_TOKEN = 'tok_card_4242424242424242_secretish';

let captured: string[] = [];
const restore: Array<() => void> = [];
let sandbox: SandboxGateway;

const text = (args: unknown[]): string => args.map((a) => (typeof a === 'string' ? a : a instanceof Uint8Array ? Buffer.from(a).toString('utf8') : JSON.stringify(a) ?? String(a))).join(' ');

beforeAll(async () => {
  sandbox = await startSandboxGateway({ apiKey: PAYMENT_API_KEY });
  process.env.PAYMENT_API_URL = sandbox.url;
  process.env.PAYMENT_API_KEY = PAYMENT_API_KEY;
  process.env.PAYMENT_MAX_RETRIES = '0';
  for (const stream of [process.stdout, process.stderr]) {
    const original = stream.write.bind(stream);
    const spy = jest.spyOn(stream, 'write').mockImplementation(((chunk: unknown, ...rest: unknown[]) => {
      captured.push(text([chunk]));
      const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      cb?.();
      return true;
    }) as typeof stream.write);
    restore.push(() => {
      spy.mockRestore();
      void original;
    });
  }
  for (const method of ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const) {
    const spy = jest.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      captured.push(text(args));
    });
    restore.push(() => spy.mockRestore());
  }
});

afterAll(async () => {
  for (const r of restore) r();
  await resetApp();
  await sandbox.close();
  delete process.env.PAYMENT_API_URL;
  delete process.env.PAYMENT_API_KEY;
  delete process.env.PAYMENT_MAX_RETRIES;
});

const tokensSeen: string[] = [];
const remember = <T extends string>(t: T): T => {
  tokensSeen.push(t);
  return t;
};

/** Nothing sensitive anywhere in what was written. */
const expectNothingSensitive = (): void => {
  const all = captured.join('\n');
  const secrets = [JWT_SECRET, PAYMENT_API_KEY, SECRET_PAYMENT_TOKEN, ...tokensSeen];
  for (const s of secrets) {
    if (all.includes(s)) throw new Error(`captured output contains a secret (${s.slice(0, 12)}…)`);
    // Neither the token's signature alone (its most sensitive part).
    const sig = s.split('.')[2];
    if (sig && sig.length > 10 && all.includes(sig)) throw new Error(`captured output contains a token signature (${sig.slice(0, 8)}…)`);
  }
  expect(all).not.toMatch(/Bearer\s+[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\./);
};

const newUser = async (): Promise<{ id: string; token: string }> => {
  const id = `log-${randomUUID()}`;
  const token = remember(await hs256({ sub: id }, JWT_SECRET));
  expectOk(await call('createUser', { token, body: { email: 'log@example.com', name: 'Log' } }), 201);
  return { id, token };
};

/** The captured lines that mention this response's request id (proves the capture works). */
const linesFor = (res: HttpResponse): string[] => captured.filter((l) => l.includes(res.awsRequestId));

describe('nothing secret reaches the logs', () => {
  it('on successful requests through every money route', async () => {
    const a = await newUser();
    const b = await newUser();
    const admin = remember(await hs256({ sub: `admin-${randomUUID()}`, scope: 'admin' }, JWT_SECRET));
    const dep = await call('createDeposit', { id: a.id, token: a.token, body: { amount: 1000, currency: 'USD', paymentToken: PAYMENT_TOKEN }, headers: { 'idempotency-key': `idem-${randomUUID()}` } });
    expectOk(dep, 201);
    expectOk(await call('createWithdrawal', { id: a.id, token: a.token, body: { amount: 10, currency: 'USD' } }), 201);
    expectOk(await call('createTransfer', { token: a.token, body: { toUserId: b.id, amount: 10, currency: 'USD' } }), 201);
    expectOk(await call('getUser', { id: a.id, token: admin }));
    expectOk(await call('listTransactions', { id: a.id, token: a.token }));
    const pending = expectOk(await call('createDeposit', { id: a.id, token: a.token, body: { amount: 5, currency: 'USD', paymentToken: 'tok_pending' } }), 201);
    expectOk(await call('updateTransaction', { id: pending.id, token: admin, body: { status: 'completed' } }));
    const hold = expectOk(await call('createHold', { id: a.id, token: a.token, body: { amount: 20, currency: 'USD', toUserId: b.id }, headers: { 'idempotency-key': `idem-${randomUUID()}` } }), 201);
    expectOk(await call('getHold', { id: hold.id, token: b.token }));
    expectOk(await call('listHolds', { id: a.id, token: a.token }));
    const capture = expectOk(await call('captureHold', { id: hold.id, token: b.token, body: { amount: 15 } }), 201);
    expectOk(await call('createRefund', { id: capture.id, token: b.token, body: { amount: 5 } }), 201);
    const spare = expectOk(await call('createHold', { id: a.id, token: a.token, body: { amount: 5, currency: 'USD' } }), 201);
    expectOk(await call('voidHold', { id: spare.id, token: a.token }));
    // A deposit refund goes to the gateway with its API key.
    expectOk(await call('createRefund', { id: dep.body.id, token: admin, body: { amount: 100 } }), 201);
    // The capture works: the request was logged under its request id.
    expect(linesFor(dep).length).toBeGreaterThan(0);
    expectNothingSensitive();
  });

  it('on 401s for every kind of bad token', async () => {
    const id = `log-${randomUUID()}`;
    const bad = [
      remember(await hs256({ sub: id }, 'wrong-secret-wrong-secret-wrong-000')),
      remember(await hs256({ sub: id, expiresIn: -60 }, JWT_SECRET)),
      remember(await hs256({ sub: id, notBefore: 600 }, JWT_SECRET)),
      remember(noneToken({ sub: id })),
      remember(forgedToken({ alg: 'HS256' }, { sub: id })),
      remember(await oversizedHs256(id)),
      remember(`garbage.${randomUUID()}.signaturepart0123456789`),
    ];
    for (const token of bad) {
      const res = await call('getUser', { id, token });
      expectError(res, 401, 'unauthenticated');
      expect(res.raw).not.toContain(token);
    }
    expectNothingSensitive();
  });

  it('on a 500 from a failing storage call', async () => {
    const u = await newUser();
    expectOk(await call('createDeposit', { id: u.id, token: u.token, body: { amount: 100, currency: 'USD' } }), 201);
    const { storage } = await app();
    const spy = jest.spyOn(storage.ledger, 'withdraw').mockRejectedValueOnce(new Error('connection terminated unexpectedly'));
    try {
      const res = await call('createWithdrawal', { id: u.id, token: u.token, body: { amount: 10, currency: 'USD' } });
      expectError(res, 500, 'internal_error');
      expect(res.raw).not.toContain('connection terminated');
      expect(linesFor(res).join('\n')).toMatch(/request failed|internal_error/);
    } finally {
      spy.mockRestore();
    }
    expectNothingSensitive();
  });

  it('on a 502 when the payment gateway fails, and with a payment token that looks like card data', async () => {
    const u = await newUser();
    sandbox.setFault({ kind: 'status', status: 500, times: 5 });
    try {
      const res = await call('createDeposit', { id: u.id, token: u.token, body: { amount: 100, currency: 'USD', paymentToken: SECRET_PAYMENT_TOKEN } });
      // The exact 502 body shape is checked in http-handlers.test.ts; here only what is logged.
      expect([res.status, res.body.error.code]).toEqual([502, 'payment_gateway_error']);
      expect(linesFor(res).length).toBeGreaterThan(0);
    } finally {
      sandbox.setFault();
    }
    const declined = await call('createDeposit', { id: u.id, token: u.token, body: { amount: 100, currency: 'USD', paymentToken: SECRET_PAYMENT_TOKEN } });
    expectError(declined, 402, 'payment_failed', declined.body?.error?.param);
    expect(declined.raw).not.toContain(SECRET_PAYMENT_TOKEN);
    expectNothingSensitive();
  });

  it('on a 502 when the gateway refuses our API key', async () => {
    const u = await newUser();
    process.env.PAYMENT_API_KEY = `${PAYMENT_API_KEY}_rotated_wrong`;
    tokensSeen.push(process.env.PAYMENT_API_KEY);
    try {
      const res = await call('createDeposit', { id: u.id, token: u.token, body: { amount: 100, currency: 'USD' } });
      expect([res.status, res.body.error.code]).toEqual([502, 'payment_gateway_error']);
      expect(res.raw).not.toContain(PAYMENT_API_KEY);
      expect(linesFor(res).length).toBeGreaterThan(0);
    } finally {
      process.env.PAYMENT_API_KEY = PAYMENT_API_KEY;
    }
    expectNothingSensitive();
  });

  it('on a 500 when the configuration is invalid', async () => {
    const id = `log-${randomUUID()}`;
    const token = remember(await hs256({ sub: id }, JWT_SECRET));
    process.env.MAX_AMOUNT = '0';
    try {
      const res = await call('getUser', { id, token });
      expectError(res, 500, 'internal_error');
      expect(res.raw).not.toContain('MAX_AMOUNT');
      expect(linesFor(res).length).toBeGreaterThan(0);
    } finally {
      delete process.env.MAX_AMOUNT;
    }
    expectNothingSensitive();
  });

  it('health and openapi log nothing sensitive either', async () => {
    expectOk(await call('health'));
    expectOk(await call('openapi'));
    expectNothingSensitive();
    expect(captured.length).toBeGreaterThan(0);
  });
});
