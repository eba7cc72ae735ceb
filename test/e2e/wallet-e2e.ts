// The end-to-end suite: HTTP against API_URL (a deployed stage), or against
// serverless-offline started here with the given storage. Every id is fresh, so it
// runs against a stage that already holds data.
import { randomUUID } from 'node:crypto';
import { startOffline, type OfflineServer } from '../support/offline';
import { e2eToken } from '../support/tokens-e2e';

interface Reply {
  status: number;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON under test
}

/**
 * `primary`: the one file that also runs when API_URL points at a deployed stage
 * (the stage has one storage; the other files would only repeat it).
 */
export interface E2EOptions {
  env?: Record<string, string>;
  primary?: boolean;
  /** Runs before the server starts (e.g. create the database). */
  prepare?: () => Promise<void>;
  /** Runs after the server stopped (e.g. delete this run's keys). */
  cleanup?: () => Promise<void>;
}

export const describeWalletE2E = (storage: string, { env = {}, primary = false, prepare, cleanup }: E2EOptions = {}): void => {
  const remote = process.env.API_URL;
  (remote && !primary ? describe.skip : describe)(`e2e over HTTP (${remote ? `API_URL ${remote}` : `serverless-offline, STORAGE=${storage}`})`, () => {
    let server: OfflineServer | undefined;
    let base: string;

    beforeAll(async () => {
      if (remote) {
        base = remote.replace(/\/$/, '');
        return;
      }
      await prepare?.();
      server = await startOffline({ STORAGE: storage, AUTH_JWT_SECRET: 'e2e-secret-at-least-32-characters-long', LOG_LEVEL: 'ERROR', ...env });
      process.env.AUTH_JWT_SECRET = 'e2e-secret-at-least-32-characters-long';
      base = server.url;
    }, 90_000);
    afterAll(async () => {
      await server?.stop();
      if (server) await cleanup?.();
    });

    const call = async (method: string, path: string, opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<Reply> => {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: {
          ...(opts.token && { authorization: `Bearer ${opts.token}` }),
          ...(opts.body !== undefined && { 'content-type': 'application/json' }),
          ...opts.headers,
        },
        ...(opts.body !== undefined && { body: typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body) }),
      });
      const text = await res.text();
      return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
    };

    const newUser = async (name = 'User'): Promise<{ id: string; token: string }> => {
      const id = `e2e-${randomUUID()}`;
      const token = await e2eToken(id);
      const r = await call('POST', '/users', { token, body: { email: `${id}@example.com`, name } });
      expect(r.status).toBe(201);
      return { id, token };
    };
    const balance = async (u: { id: string; token: string }, currency = 'USD'): Promise<number | undefined> =>
      (await call('GET', `/users/${encodeURIComponent(u.id)}`, { token: u.token })).body.balances.find((b: { currency: string }) => b.currency === currency)?.available;

    it('serves health, the OpenAPI document and 404 for unknown routes, each with x-request-id', async () => {
      const health = await call('GET', '/health');
      expect(health.status).toBe(200);
      expect(health.body).toEqual({ status: 'ok' });
      expect(health.headers.get('x-request-id')).toBeTruthy();
      const doc = await call('GET', '/openapi.json');
      expect(doc.body.openapi).toBe('3.1.0');
      expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(['/users', '/transfers', '/users/{id}/transactions']));
      for (const [method, path] of [['GET', '/nope'], ['DELETE', '/users/x'], ['PUT', '/transfers']] as const) {
        const r = await call(method, path);
        expect(r.status).toBe(404);
        expect(r.body.error.code).toBe('not_found');
        expect(r.headers.get('x-request-id')).toBeTruthy();
      }
    });

    it('walks through create user, deposit, transfer and both histories', async () => {
      const alice = await newUser('Alice');
      const bob = await newUser('Bob');
      const dep = await call('POST', `/users/${alice.id}/deposits`, { token: alice.token, body: { amount: 1050, currency: 'USD', metadata: { source: 'e2e' } } });
      expect(dep.status).toBe(201);
      expect(dep.body).toMatchObject({ type: 'deposit', status: 'completed', amount: 1050, currency: 'USD', userId: alice.id, metadata: { source: 'e2e' } });
      const tr = await call('POST', '/transfers', { token: alice.token, body: { toUserId: bob.id, amount: 300, currency: 'USD' } });
      expect(tr.status).toBe(201);
      expect(tr.body).toMatchObject({ type: 'transfer', status: 'completed', userId: alice.id, toUserId: bob.id, amount: 300 });
      expect(await balance(alice)).toBe(750);
      expect(await balance(bob)).toBe(300);
      const aliceHistory = await call('GET', `/users/${alice.id}/transactions`, { token: alice.token });
      expect(aliceHistory.body.data.map((t: { id: string }) => t.id)).toEqual([tr.body.id, dep.body.id]);
      const bobHistory = await call('GET', `/users/${bob.id}/transactions`, { token: bob.token });
      expect(bobHistory.body.data.map((t: { id: string }) => t.id)).toEqual([tr.body.id]);
      expect((await call('GET', `/transactions/${tr.body.id}`, { token: bob.token })).status).toBe(200);
      const carol = await newUser('Carol');
      expect((await call('GET', `/transactions/${tr.body.id}`, { token: carol.token })).status).toBe(404);
      expect((await call('GET', `/users/${alice.id}`, { token: carol.token })).status).toBe(403);
    });

    it('refuses overdrafts, bad input and mass assignment with a 4xx that changes nothing', async () => {
      const u = await newUser();
      await call('POST', `/users/${u.id}/deposits`, { token: u.token, body: { amount: 100, currency: 'EUR' } });
      const over = await call('POST', `/users/${u.id}/withdrawals`, { token: u.token, body: { amount: 101, currency: 'EUR' } });
      expect(over.status).toBe(422);
      expect(over.body.error).toMatchObject({ code: 'insufficient_funds', param: 'amount' });
      const cases: Array<[unknown, number, string, string | undefined]> = [
        [{ amount: 1.5, currency: 'EUR' }, 400, 'invalid_request', 'amount'],
        [{ amount: '10', currency: 'EUR' }, 400, 'invalid_request', 'amount'],
        [{ amount: 10, currency: 'eur' }, 400, 'invalid_request', 'currency'],
        [{ amount: 10, currency: 'EUR', userId: 'someone-else' }, 400, 'invalid_request', 'userId'],
        ['{"amount": 10,', 400, 'invalid_request', undefined],
        [[1, 2], 400, 'invalid_request', undefined],
      ];
      for (const [body, status, code, param] of cases) {
        const r = await call('POST', `/users/${u.id}/withdrawals`, { token: u.token, body });
        expect([r.status, r.body.error.code, r.body.error.param]).toEqual([status, code, param]);
      }
      const wrongType = await call('POST', `/users/${u.id}/withdrawals`, { token: u.token, body: '{"amount":1}', headers: { 'content-type': 'text/plain' } });
      expect(wrongType.status).toBe(415);
      const big = await call('POST', `/users/${u.id}/withdrawals`, { token: u.token, body: { amount: 1, currency: 'EUR', metadata: { k: 'x'.repeat(17_000) } } });
      expect(big.status).toBe(413);
      expect(await balance(u, 'EUR')).toBe(100);
      expect((await call('GET', `/users/${u.id}/transactions`, { token: u.token })).body.data).toHaveLength(1);
    });

    it('answers hostile paths and bodies with a 4xx, never a 5xx: NUL, surrogates, overlong UTF-8, rounding literals', async () => {
      const u = await newUser();
      // NUL in a path id reaches the function: 404 in the error shape.
      for (const id of ['%00', `${u.id}%00`, 'a%00b']) {
        for (const path of [`/users/${id}`, `/users/${id}/transactions`, `/transactions/${id}`]) {
          const r = await call('GET', path, { token: u.token });
          expect([path, r.status, r.body.error.code]).toEqual([path, 404, 'not_found']);
        }
      }
      // Overlong and invalid UTF-8 percent-encodings (and encoded surrogates): serverless-offline's
      // router refuses them with its own 400 before any function runs (in-process, the function's
      // own answer is a 404: see test/integration/http-fuzz-suite.ts). Never a 5xx.
      for (const id of ['%C0%AE', '%E0%80%AE', '%C0%80', '%ED%A0%80', '%FF', '%F8%88%80%80%80']) {
        for (const path of [`/users/${id}`, `/users/${id}/transactions`, `/transactions/${id}`, `/users/${id}/withdrawals`]) {
          const r = await call(path.endsWith('withdrawals') ? 'POST' : 'GET', path, { token: u.token, ...(path.endsWith('withdrawals') && { body: { amount: 1, currency: 'USD' } }) });
          expect([path, r.status >= 400 && r.status < 500]).toEqual([path, true]);
        }
      }
      const nul = await call('POST', `/users/${u.id}/deposits`, { token: u.token, body: { amount: 5, currency: 'USD', metadata: { k: 'a\u0000b' } } });
      expect([nul.status, nul.body.error.param]).toEqual([400, 'metadata.k']);
      const lone = await call('POST', `/users/${u.id}/deposits`, { token: u.token, body: '{"amount":5,"currency":"USD","metadata":{"k":"\\ud800"}}' });
      expect([lone.status, lone.body.error.param]).toEqual([400, 'metadata.k']);
      const rounding = await call('POST', `/users/${u.id}/deposits`, { token: u.token, body: '{"amount":1.00000000000000001,"currency":"USD"}' });
      expect([rounding.status, rounding.body.error.param]).toEqual([400, 'amount']);
      expect(await balance(u)).toBeUndefined();
    });

    it('replays an idempotent request instead of moving money twice', async () => {
      const u = await newUser();
      const key = randomUUID();
      const first = await call('POST', `/users/${u.id}/deposits`, { token: u.token, body: { amount: 500, currency: 'USD' }, headers: { 'Idempotency-Key': key } });
      const again = await call('POST', `/users/${u.id}/deposits`, { token: u.token, body: { amount: 500, currency: 'USD' }, headers: { 'Idempotency-Key': key } });
      expect(first.status).toBe(201);
      expect(again.status).toBe(201);
      expect(again.body).toEqual(first.body);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      const other = await call('POST', `/users/${u.id}/deposits`, { token: u.token, body: { amount: 501, currency: 'USD' }, headers: { 'Idempotency-Key': key } });
      expect(other.status).toBe(422);
      expect(other.body.error.code).toBe('idempotency_key_reused');
      expect(await balance(u)).toBe(500);
    });

    it('lets exactly 10 of 40 concurrent withdrawals through when only 10 are affordable', async () => {
      const u = await newUser();
      await call('POST', `/users/${u.id}/deposits`, { token: u.token, body: { amount: 100, currency: 'USD' } });
      const replies = await Promise.all(
        Array.from({ length: 40 }, () => call('POST', `/users/${u.id}/withdrawals`, { token: u.token, body: { amount: 10, currency: 'USD' } })),
      );
      expect(replies.filter((r) => r.status === 201)).toHaveLength(10);
      expect(replies.filter((r) => r.status === 422)).toHaveLength(30);
      expect(await balance(u)).toBe(0);
    });

    it('settles a pending deposit by admin PATCH exactly once', async () => {
      const u = await newUser();
      const admin = await e2eToken(`e2e-admin-${randomUUID()}`, true);
      const dep = await call('POST', `/users/${u.id}/deposits`, { token: u.token, body: { amount: 900, currency: 'GBP', paymentToken: 'tok_pending' } });
      expect(dep.body.status).toBe('pending');
      expect(await balance(u, 'GBP')).toBe(0);
      const patched = await call('PATCH', `/transactions/${dep.body.id}`, { token: admin, body: { status: 'completed' } });
      expect(patched.status).toBe(200);
      expect(patched.body.status).toBe('completed');
      const again = await call('PATCH', `/transactions/${dep.body.id}`, { token: admin, body: { status: 'completed' } });
      expect(again.status).toBe(422);
      expect(again.body.error.code).toBe('invalid_state_transition');
      expect(await balance(u, 'GBP')).toBe(900);
      const declined = await call('POST', `/users/${u.id}/deposits`, { token: u.token, body: { amount: 5, currency: 'GBP', paymentToken: 'tok_declined' } });
      expect(declined.status).toBe(402);
      expect(declined.body.error).toMatchObject({ code: 'payment_failed' });
      expect((await call('GET', `/transactions/${declined.body.error.transactionId}`, { token: u.token })).body.status).toBe('failed');
    });

    it('pages through history with opaque cursors and rejects a tampered one', async () => {
      const u = await newUser();
      for (let i = 0; i < 5; i++) await call('POST', `/users/${u.id}/deposits`, { token: u.token, body: { amount: 1 + i, currency: 'USD' } });
      const seen: number[] = [];
      let cursor: string | null = null;
      do {
        const page: Reply = await call('GET', `/users/${u.id}/transactions?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token: u.token });
        expect(page.status).toBe(200);
        seen.push(...page.body.data.map((t: { amount: number }) => t.amount));
        cursor = page.body.nextCursor;
        if (cursor) {
          const tampered = `${cursor.slice(0, -2)}${cursor.endsWith('AA') ? 'BB' : 'AA'}`;
          const bad = await call('GET', `/users/${u.id}/transactions?limit=2&cursor=${encodeURIComponent(tampered)}`, { token: u.token });
          expect([bad.status, bad.body.error.param]).toEqual([400, 'cursor']);
        }
      } while (cursor);
      expect(seen).toEqual([5, 4, 3, 2, 1]);
    });
  });
};
