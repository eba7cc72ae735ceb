// Shared by http-fuzz*.test.ts, one file per backend (memory, PGlite, PostgreSQL,
// Redis): every store must give the same answers.
//
// OWASP API4 (resource consumption) and API8 (misconfiguration / verbose errors):
// random bodies, path ids, query strings and headers against every route. Every
// answer is a contract 4xx in exactly the error shape (or, for reads, a 200), never
// a 5xx or internals, and a rejected request never changes stored state.

import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { resetApp } from '../../src/composition-root';
import type { Method } from '../support/api-gateway-event';
import {
  call, callUnmatched, expectOk, fund, newUser, storedState, type HttpResponse, type RouteName, type StoredState, type TestUser,
} from '../support/invoke';
import { adminToken, TEST_JWT_SECRET } from '../support/tokens';


export interface FuzzOptions {
  /** Runs per property: the memory store affords more than a networked one. */
  runs: number;
}

export const describeHttpFuzz = (backend: string, { runs: RUNS }: FuzzOptions): void => describe(`HTTP fuzzing on ${backend}`, () => {
  const KiB16 = 16 * 1024;

  /** The contract's error table: status → codes. */
  const CONTRACT_4XX: Record<number, string[]> = {
    400: ['invalid_request'],
    401: ['unauthenticated'],
    402: ['payment_failed'],
    403: ['forbidden'],
    404: ['not_found'],
    409: ['user_exists', 'idempotency_key_in_use'],
    413: ['payload_too_large'],
    415: ['unsupported_media_type'],
    422: ['idempotency_key_reused', 'insufficient_funds', 'invalid_state_transition', 'same_account_transfer', 'hold_expired', 'refund_exceeds_amount'],
    429: ['rate_limited'],
  };

  const LEAKS: RegExp[] = [
    /\n\s*at\s/, /\bat [\w$.<>[\]]+ \(/, /\.[cm]?[jt]s:\d+/, /node_modules/, /Error:/, /\b[A-Z][a-zA-Z]*Error\b/,
    /\bSELECT\b/, /\bINSERT INTO\b/, /\bUPDATE \w+ SET\b/, /\bDELETE FROM\b/, /syntax error at or near/, /duplicate key/,
    /ECONNREFUSED/, /127\.0\.0\.1/, /localhost/, /\bundefined\b/, /\[object Object\]/,
  ];

  let owner: TestUser;
  let bystander: TestUser;
  /** Party to nothing of the owner's. */
  let stranger: TestUser;
  let admin: string;
  let ownerTx: string;
  /** A hold the owner pays to the bystander: only the bystander (or an admin) may capture or void it. */
  let ownerHold: string;
  let baseline: StoredState;

  beforeAll(async () => {
    owner = await newUser('fuzz');
    bystander = await newUser('fuzzb');
    stranger = await newUser('fuzzs');
    admin = await adminToken(`admin-${randomUUID()}`);
    await fund(owner, 1000);
    await fund(owner, 500, 'EUR');
    await fund(bystander, 1000);
    ownerTx = expectOk(await call('createWithdrawal', { id: owner.id, token: owner.token, body: { amount: 100, currency: 'USD', metadata: { k: 'v' } } }), 201).id;
    ownerHold = expectOk(await call('createHold', { id: owner.id, token: owner.token, body: { amount: 50, currency: 'USD', toUserId: bystander.id } }), 201).id;
    baseline = await storedState([owner.id, bystander.id]);
  });
  afterAll(() => resetApp());

  /** The response is a contract 4xx in exactly the error shape, with nothing internal in it. */
  const expectContractError = (res: HttpResponse): void => {
    if (res.status >= 500 || res.status < 400) throw new Error(`expected a 4xx, got ${res.status}: ${res.raw.slice(0, 300)}`);
    const codes = CONTRACT_4XX[res.status];
    expect(codes).toBeDefined();
    expect(res.headers['content-type']).toMatch(/^application\/json\b/);
    expect(res.headers['x-request-id']).toBe(res.awsRequestId);
    expect(Object.keys(res.body)).toEqual(['error']);
    const e = res.body.error as Record<string, unknown>;
    const allowed = res.status === 402 ? ['code', 'message', 'param', 'requestId', 'transactionId'] : ['code', 'message', 'param', 'requestId'];
    for (const k of Object.keys(e)) expect(allowed).toContain(k);
    expect(codes).toContain(e.code);
    expect(typeof e.message).toBe('string');
    expect(e.requestId).toBe(res.awsRequestId);
    if ('param' in e) expect(typeof e.param).toBe('string');
    expectNoInternals(res, typeof e.param === 'string' ? e.param : undefined);
  };

  /** No stack frames, SQL, hosts or secrets. The client's own field name (param) is removed first: it is echoed by design. */
  const expectNoInternals = (res: HttpResponse, param?: string): void => {
    let text = res.raw;
    if (param) {
      for (const form of [param, JSON.stringify(param).slice(1, -1)]) text = text.split(form).join('');
    }
    for (const leak of LEAKS) {
      if (leak.test(text)) throw new Error(`response leaks ${leak}: ${text.slice(0, 400)}`);
    }
    expect(text).not.toContain(TEST_JWT_SECRET);
  };

  const expectUnchanged = async (): Promise<void> => {
    expect(await storedState([owner.id, bystander.id])).toEqual(baseline);
  };

  // ---------------------------------------------------------------------------
  // Generators.

  const hugeNumber = fc.constantFrom('1e400', '-1e400', '123456789012345678901234567890', '9007199254740993', '1e11', '100000000001', '1.0000000000000002', '-0', '0.0', '5e-324', '1E+2', '100.0');
  const badAmount = fc.oneof(
    fc.double({ noInteger: true }).map((d) => JSON.stringify(d)),
    fc.integer({ max: 0 }).map(String),
    fc.constantFrom('1e400', '-1e400', '123456789012345678901234567890', '9007199254740993', '100000000001', '1.5', '-0', '0.0', '5e-324', '1e-7'),
    fc.string().map((s) => JSON.stringify(s)),
    fc.constantFrom('null', 'true', 'false', '[]', '{}', '[100]', '{"value":100}', '"100"', '""'),
  );
  const currencyish = fc.oneof(fc.constantFrom('USD', 'EUR', 'usd', 'XXX', 'US', 'USDD', '', ' USD', 'ÜSD'), fc.string({ maxLength: 5 }));
  const anyString = fc.oneof(fc.string({ maxLength: 60 }), fc.string({ unit: 'binary', maxLength: 60 }), fc.string({ unit: 'grapheme', maxLength: 30 }));
  const anyKey = fc.oneof(anyString, fc.constantFrom('__proto__', 'constructor', 'prototype', 'userId', 'balance', 'id', 'status', '$where', '$gt', 'amount ', 'Amount', ''));

  const nested = (depth: number, open: string, close: string, leaf: string): string => `${open.repeat(depth)}${leaf}${close.repeat(depth)}`;

  /** Raw request bodies: random JSON, near-valid bodies with one bad part, huge and deep ones. */
  const rawBody = fc.oneof(
    { weight: 3, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v) ?? 'null') },
    { weight: 3, arbitrary: fc.dictionary(anyKey, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 8 }).map((o) => JSON.stringify(o)) },
    { weight: 3, arbitrary: fc.tuple(badAmount, currencyish).map(([a, c]) => `{"amount":${a},"currency":${JSON.stringify(c)}}`) },
    { weight: 2, arbitrary: fc.tuple(hugeNumber, anyKey, fc.jsonValue({ maxDepth: 1 })).map(([a, k, v]) => `{"amount":${a},"currency":"USD",${JSON.stringify(k)}:${JSON.stringify(v) ?? 'null'}}`) },
    { weight: 2, arbitrary: fc.dictionary(anyKey, fc.oneof(anyString, fc.jsonValue({ maxDepth: 1 })), { minKeys: 0, maxKeys: 30 }).map((m) => JSON.stringify({ amount: 0, currency: 'USD', metadata: m })) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 3000 }).map((d) => `{"amount":${nested(d, '[', ']', '1')},"currency":"USD"}`) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 2000 }).map((d) => `{"amount":-1,"currency":"USD","metadata":${nested(d, '{"a":', '}', '"x"')}}`) },
    { weight: 1, arbitrary: fc.integer({ min: KiB16 - 64, max: KiB16 + 64 }).map((n) => JSON.stringify({ amount: 1.5, currency: 'USD', metadata: { pad: 'x'.repeat(Math.max(0, n - 60)) } })) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 40_000 }).map((n) => JSON.stringify('é'.repeat(n))) },
    { weight: 1, arbitrary: fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 200 })) },
    { weight: 1, arbitrary: fc.constantFrom('', ' ', '{', '}', '{"amount":}', '{"amount":1,}', "{'amount':1}", 'NaN', 'Infinity', '{"amount":NaN,"currency":"USD"}', '\u0000', '\ufeff{"amount":1,"currency":"USD"}', '{"amount":1,"currency":"USD","amount":2}') },
  );

  /** Is `body` (parsed) possibly a valid deposit/withdrawal? A superset of the truly valid ones. */
  const possiblyValidMoney = (raw: string, extraKeys: string[]): boolean => {
    if (Buffer.byteLength(raw) > KiB16) return false;
    let v: unknown;
    try {
      v = JSON.parse(raw);
    } catch {
      return false;
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
    const o = v as Record<string, unknown>;
    if (Object.keys(o).some((k) => !['amount', 'currency', 'metadata', ...extraKeys].includes(k))) return false;
    const amountOk = typeof o.amount === 'number' && Number.isInteger(o.amount) && o.amount >= 1 && o.amount <= 1e11;
    const currencyOk = typeof o.currency === 'string' && /^[A-Z]{3}$/.test(o.currency);
    return amountOk && currencyOk;
  };

  const pathId = fc.oneof(
    fc.string({ minLength: 1, maxLength: 80 }),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }),
    fc.uuid(),
    fc.constantFrom('..', '.', '%2e%2e', "' OR '1'='1", '{"$ne":null}', '$where', 'null', 'undefined', '__proto__', 'constructor', '0', '-1', '%00', 'x'.repeat(5000)),
  ).filter((s) => !s.includes('/'));

  const contentType = fc.oneof(
    { weight: 6, arbitrary: fc.constant('application/json') },
    { weight: 1, arbitrary: fc.constantFrom('text/plain', 'application/xml', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', '', 'json', 'application/jsonp', 'application/json-patch') },
  );

  const idemKey = fc.option(fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 40 })), { nil: undefined });

  interface Attempt {
    route: RouteName;
    id?: string;
    token?: string;
    body?: string;
    query?: Record<string, string>;
    rawQueryString?: string;
    headers?: Record<string, string>;
    contentType?: string;
    base64?: boolean;
  }

  const send = (a: Attempt): Promise<HttpResponse> =>
    call(a.route, {
      ...(a.id !== undefined && { id: a.id }),
      ...(a.token !== undefined && { token: a.token }),
      ...(a.body !== undefined && { body: a.body }),
      ...(a.query !== undefined && { query: a.query }),
      ...(a.rawQueryString !== undefined && { rawQueryString: a.rawQueryString }),
      ...(a.headers !== undefined && { headers: a.headers }),
      ...(a.contentType !== undefined && { contentType: a.contentType }),
      ...(a.base64 !== undefined && { base64: a.base64 }),
    });

  /** Runs a property whose every request must be a contract 4xx with no state change. */
  const rejectsAll = (arb: fc.Arbitrary<Attempt | null>) =>
    fc.assert(
      fc.asyncProperty(arb, async (attempt) => {
        fc.pre(attempt !== null);
        const res = await send(attempt as Attempt);
        expectContractError(res);
        await expectUnchanged();
      }),
      { numRuns: RUNS },
    );

  describe('fuzzing the write routes', () => {
    it('POST /users/{id}/deposits', () =>
      rejectsAll(fc.record({ body: rawBody, ct: contentType, key: idemKey, own: fc.boolean(), id: pathId, b64: fc.boolean() }).map(({ body, ct, key, own, id, b64 }) =>
        own && ct === 'application/json' && possiblyValidMoney(body, ['paymentToken']) ? null : {
          route: 'createDeposit' as const, id: own ? owner.id : id, token: owner.token, body, contentType: ct, base64: b64,
          ...(key !== undefined && { headers: { 'idempotency-key': key } }),
        })));

    it('POST /users/{id}/withdrawals', () =>
      rejectsAll(fc.record({ body: rawBody, ct: contentType, key: idemKey, own: fc.boolean(), id: pathId }).map(({ body, ct, key, own, id }) =>
        own && ct === 'application/json' && possiblyValidMoney(body, []) ? null : {
          route: 'createWithdrawal' as const, id: own ? owner.id : id, token: owner.token, body, contentType: ct,
          ...(key !== undefined && { headers: { 'idempotency-key': key } }),
        })));

    it('POST /transfers (recipients never exist, so even valid bodies are 4xx)', () =>
      rejectsAll(fc.record({ body: rawBody, ct: contentType, key: idemKey, to: pathId, mix: fc.boolean() }).map(({ body, ct, key, to, mix }) => {
        let b = body;
        if (mix) {
          try {
            const v = JSON.parse(body) as unknown;
            if (v && typeof v === 'object' && !Array.isArray(v)) b = JSON.stringify({ ...v, toUserId: `${to}-${randomUUID()}` });
          } catch {
            // keep the raw body
          }
        }
        return { route: 'createTransfer' as const, token: owner.token, body: b, contentType: ct, ...(key !== undefined && { headers: { 'idempotency-key': key } }) };
      })));

    it('POST /users (the caller already has a profile)', () =>
      rejectsAll(fc.record({ body: rawBody, ct: contentType }).map(({ body, ct }) => ({ route: 'createUser' as const, token: owner.token, body, contentType: ct }))));

    it('PATCH /transactions/{id} as an admin', () =>
      rejectsAll(fc.record({ body: rawBody, ct: contentType, id: fc.oneof(pathId, fc.constant(ownerTx)) }).map(({ body, ct, id }) => {
        if (id === ownerTx && ct === 'application/json') {
          // Metadata alone may legitimately be replaced: only send bodies that cannot be that.
          try {
            const v = JSON.parse(body) as Record<string, unknown> | null;
            if (v && typeof v === 'object' && !Array.isArray(v) && 'metadata' in v && !('status' in v)) return null;
          } catch {
            // not JSON: always rejected
          }
        }
        return { route: 'updateTransaction' as const, id, token: admin, body, contentType: ct };
      })));

    it('POST /users/{id}/holds (valid bodies only with a payee that never exists)', () =>
      rejectsAll(fc.record({ body: rawBody, ct: contentType, key: idemKey, own: fc.boolean(), id: pathId, to: fc.option(pathId, { nil: undefined }), secs: fc.option(fc.jsonValue({ maxDepth: 1 }), { nil: undefined }) })
        .map(({ body, ct, key, own, id, to, secs }) => {
          let b = body;
          try {
            const v = JSON.parse(body) as unknown;
            // Re-encoded only when changed: the raw text keeps its number literals otherwise.
            if (v && typeof v === 'object' && !Array.isArray(v) && (to !== undefined || secs !== undefined)) {
              b = JSON.stringify({ ...v, ...(to !== undefined && { toUserId: `${to}-${randomUUID()}` }), ...(secs !== undefined && { expiresInSeconds: secs }) });
            }
          } catch {
            // keep the raw body
          }
          if (own && ct === 'application/json' && to === undefined && possiblyValidMoney(b, ['expiresInSeconds'])) return null;
          return {
            route: 'createHold' as const, id: own ? owner.id : id, token: owner.token, body: b, contentType: ct,
            ...(key !== undefined && { headers: { 'idempotency-key': key } }),
          };
        })));

    it('POST /holds/{id}/capture and /void by the payer of a hold with a payee (valid bodies are 403)', () =>
      rejectsAll(fc.record({ route: fc.constantFrom<RouteName>('captureHold', 'voidHold'), body: fc.option(rawBody, { nil: undefined }), ct: contentType, key: idemKey, id: fc.oneof(pathId, fc.constant('hold')) })
        .map(({ route, body, ct, key, id }) => ({
          route, id: id === 'hold' ? ownerHold : id, token: owner.token, contentType: ct,
          ...(body !== undefined && { body }),
          ...(key !== undefined && { headers: { 'idempotency-key': key } }),
        }))));

    it('POST /transactions/{id}/refunds by the owner of a withdrawal (valid bodies are 403)', () =>
      rejectsAll(fc.record({ body: rawBody, ct: contentType, key: idemKey, id: fc.oneof(pathId, fc.constant('tx')) }).map(({ body, ct, key, id }) => ({
        route: 'createRefund' as const, id: id === 'tx' ? ownerTx : id, token: owner.token, body, contentType: ct,
        ...(key !== undefined && { headers: { 'idempotency-key': key } }),
      }))));

    it('another user\'s token never moves the owner\'s money, whatever the amount', () =>
      rejectsAll(fc.record({ route: fc.constantFrom<RouteName>('createDeposit', 'createWithdrawal'), body: fc.tuple(fc.integer({ min: 1, max: 10_000 }), fc.constantFrom('USD', 'EUR')) })
        .map(({ route, body: [amount, currency] }) => ({ route, id: owner.id, token: bystander.token, body: JSON.stringify({ amount, currency }) }))));

    it('another user\'s token never holds, captures, voids or refunds the owner\'s money', () =>
      rejectsAll(fc.record({ route: fc.constantFrom<RouteName>('createHold', 'captureHold', 'voidHold', 'createRefund'), amount: fc.integer({ min: 1, max: 10_000 }) })
        .map(({ route, amount }) => {
          if (route === 'createHold') return { route, id: owner.id, token: bystander.token, body: JSON.stringify({ amount, currency: 'USD' }) };
          if (route === 'createRefund') return { route, id: ownerTx, token: stranger.token, body: JSON.stringify({ amount }) };
          return { route, id: ownerHold, token: stranger.token, body: route === 'voidHold' ? '{}' : JSON.stringify({ amount: Math.min(amount, 50) }) };
        })));
  });

  describe('fuzzing ids and query strings', () => {
    it('GET /transactions/{id} with random ids is 404', () =>
      rejectsAll(pathId.map((id) => ({ route: 'getTransaction' as const, id, token: admin }))));

    it('GET /holds/{id} with random ids is 404', () =>
      rejectsAll(pathId.map((id) => ({ route: 'getHold' as const, id, token: admin }))));

    it('GET /users/{id}/holds with random ids and queries', () =>
      rejectsAll(fc.tuple(pathId, fc.dictionary(fc.string({ maxLength: 10 }), fc.string({ maxLength: 30 }), { maxKeys: 4 })).map(([id, query]) =>
        ({ route: 'listHolds' as const, id, token: owner.token, query }))));

    it('GET /users/{id} with random ids: 403 for a user, 404 for an admin', () =>
      rejectsAll(fc.tuple(pathId, fc.boolean()).map(([id, asAdmin]) => ({ route: 'getUser' as const, id, token: asAdmin ? admin : owner.token }))));

    it('GET /users/{id}/transactions with random ids and queries', () =>
      rejectsAll(fc.tuple(pathId, fc.dictionary(fc.string({ maxLength: 10 }), fc.string({ maxLength: 30 }), { maxKeys: 4 })).map(([id, query]) =>
        ({ route: 'listTransactions' as const, id, token: owner.token, query }))));

    const queryValue = fc.oneof(
      fc.string({ maxLength: 20 }), fc.constantFrom('0', '101', '-1', '1e2', '99999999999999999999', 'NaN', '', ' 5', '5 ', '0x10', '1.0', '١٠'),
    );
    it('the owner\'s own listing with random query strings: 200 only for valid ones, else 400 naming the parameter', () =>
      fc.assert(
        fc.asyncProperty(
          fc.record({
            limit: fc.option(queryValue, { nil: undefined }),
            type: fc.option(fc.oneof(fc.constantFrom('deposit', 'withdrawal', 'transfer'), fc.string({ maxLength: 12 })), { nil: undefined }),
            status: fc.option(fc.oneof(fc.constantFrom('pending', 'completed', 'failed'), fc.string({ maxLength: 12 })), { nil: undefined }),
            cursor: fc.option(fc.oneof(fc.string({ maxLength: 80 }), fc.base64String({ maxLength: 80 }).map((s) => `${s}.${s}`)), { nil: undefined }),
            extra: fc.option(fc.tuple(fc.string({ minLength: 1, maxLength: 10 }), fc.string({ maxLength: 10 })), { nil: undefined }),
          }),
          async ({ extra, ...q }) => {
            const query: Record<string, string> = {};
            for (const [k, v] of Object.entries(q)) if (v !== undefined) query[k] = v;
            if (extra && !(extra[0] in query)) query[extra[0]] = extra[1];
            const res = await call('listTransactions', { id: owner.id, token: owner.token, query });
            if (res.status === 200) {
              const limitOk = query.limit === undefined || (/^\d{1,3}$/.test(query.limit) && Number(query.limit) >= 1 && Number(query.limit) <= 100);
              expect(limitOk).toBe(true);
              expect(query.cursor).toBeUndefined();
              expect(Object.keys(query).every((k) => ['limit', 'type', 'status', 'cursor'].includes(k))).toBe(true);
              expect(res.body.data.length).toBeLessThanOrEqual(Number(query.limit ?? 20));
            } else {
              expectContractError(res);
              expect(res.status).toBe(400);
              expect(Object.keys(query)).toContain(res.body.error.param);
            }
          },
        ),
        { numRuns: RUNS * 2 },
      ));

    it('the owner\'s own holds listing with random query strings: 200 only for valid ones, else 400 naming the parameter', () =>
      fc.assert(
        fc.asyncProperty(
          fc.record({
            limit: fc.option(queryValue, { nil: undefined }),
            status: fc.option(fc.oneof(fc.constantFrom('held', 'captured', 'voided', 'expired'), fc.string({ maxLength: 12 })), { nil: undefined }),
            cursor: fc.option(fc.oneof(fc.string({ maxLength: 80 }), fc.base64String({ maxLength: 80 }).map((c) => `${c}.${c}`)), { nil: undefined }),
            extra: fc.option(fc.tuple(fc.string({ minLength: 1, maxLength: 10 }), fc.string({ maxLength: 10 })), { nil: undefined }),
          }),
          async ({ extra, ...q }) => {
            const query: Record<string, string> = {};
            for (const [k, v] of Object.entries(q)) if (v !== undefined) query[k] = v;
            if (extra && !(extra[0] in query)) query[extra[0]] = extra[1];
            const res = await call('listHolds', { id: owner.id, token: owner.token, query });
            if (res.status === 200) {
              expect(query.limit === undefined || (/^\d{1,3}$/.test(query.limit) && Number(query.limit) >= 1 && Number(query.limit) <= 100)).toBe(true);
              expect(query.cursor).toBeUndefined();
              expect(Object.keys(query).every((k) => ['limit', 'status', 'cursor'].includes(k))).toBe(true);
            } else {
              expectContractError(res);
              expect(res.status).toBe(400);
              expect(Object.keys(query)).toContain(res.body.error.param);
            }
          },
        ),
        { numRuns: RUNS },
      ));

    it('raw query strings with odd encodings never break a handler', () =>
      fc.assert(
        fc.asyncProperty(fc.oneof(fc.string({ maxLength: 100 }), fc.constantFrom('limit=%', 'limit=%ZZ', 'limit=1&limit=2', '&&&', '=', 'limit', 'cursor=%00', 'type[]=deposit', 'limit[$gt]=0')), async (raw) => {
          const res = await call('listTransactions', { id: owner.id, token: owner.token, rawQueryString: raw });
          if (res.status !== 200) expectContractError(res);
          await expectUnchanged();
        }),
        { numRuns: RUNS },
      ));

    it('unmatched methods and paths are 404 in the error shape', () =>
      fc.assert(
        fc.asyncProperty(
          fc.constantFrom<Method>('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'),
          fc.array(fc.string({ maxLength: 12 }), { maxLength: 5 }).map((segs) => `/${segs.map(encodeURIComponent).join('/')}`),
          fc.option(rawBody, { nil: undefined }),
          async (method, path, body) => {
            const res = await callUnmatched(method, path, { ...(body !== undefined && { body }) });
            expectContractError(res);
            expect(res.status).toBe(404);
          },
        ),
        { numRuns: RUNS },
      ));
  });

  describe('resource limits', () => {
    it('a 1 MiB body is refused with 413 before it is parsed', async () => {
      const res = await call('createDeposit', { id: owner.id, token: owner.token, body: `{"amount":1,"currency":"USD","metadata":{"a":"${'x'.repeat(1024 * 1024)}"}}` });
      expectContractError(res);
      expect(res.status).toBe(413);
      await expectUnchanged();
    });

    it('deeply nested JSON (16 KiB of brackets) is a 400, not a crash', async () => {
      for (const body of [nested(8000, '[', ']', ''), `{"metadata":${nested(2700, '{"a":', '}', '1')}}`]) {
        expect(Buffer.byteLength(body)).toBeLessThanOrEqual(KiB16);
        const res = await call('createWithdrawal', { id: owner.id, token: owner.token, body });
        expectContractError(res);
        expect(res.status).toBe(400);
      }
      await expectUnchanged();
    });

    it('a 2 KiB path id and a 5 KiB Idempotency-Key are rejected cleanly', async () => {
      expectContractError(await call('getUser', { id: 'u'.repeat(2048), token: owner.token }));
      const res = await call('createWithdrawal', { id: owner.id, token: owner.token, body: { amount: 1, currency: 'USD' }, headers: { 'idempotency-key': 'k'.repeat(5000) } });
      expectContractError(res);
      expect(res.body.error.param).toBe('Idempotency-Key');
      await expectUnchanged();
    });

    it('balances built from maximum amounts stay exact', async () => {
      const rich = await newUser('rich');
      for (let i = 0; i < 3; i++) expectOk(await call('createDeposit', { id: rich.id, token: rich.token, body: { amount: 100_000_000_000, currency: 'JPY' } }), 201);
      const res = await call('createWithdrawal', { id: rich.id, token: rich.token, body: { amount: 100_000_000_000, currency: 'JPY' } });
      expect(res.status).toBe(201);
      const user = expectOk(await call('getUser', { id: rich.id, token: rich.token }));
      expect(user.balances).toEqual([{ currency: 'JPY', available: 200_000_000_000, held: 0 }]);
      expectOk(await call('createHold', { id: rich.id, token: rich.token, body: { amount: 100_000_000_000, currency: 'JPY' } }), 201);
      const holding = expectOk(await call('getUser', { id: rich.id, token: rich.token }));
      expect(holding.balances).toEqual([{ currency: 'JPY', available: 100_000_000_000, held: 100_000_000_000 }]);
    });
  });

  // -------------------------------------------------------------------------
  // Hostile strings and numbers: decided once, at the edge, the same on every store.

  /** NUL, an unpaired high surrogate, an unpaired low one, and each inside text. */
  const HOSTILE = ['\u0000', 'a\u0000b', '\uD800', 'x\uDBFFy', '\uDC00', 'x\uDFFF', '\uDC00\uD800'];
  const hostileString = fc.oneof(
    fc.constantFrom(...HOSTILE),
    fc.tuple(fc.string({ maxLength: 10 }), fc.constantFrom('\u0000', '\uD800', '\uDBFF', '\uDC00', '\uDFFF'), fc.string({ maxLength: 10 }))
      .map(([a, bad, b]) => `${a}${bad}${b}`)
      // A high surrogate followed by a low one is a real character, not a hostile one.
      .filter((t) => /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(t)),
  );

  const expect400 = (res: HttpResponse, param: string): void => {
    expectContractError(res);
    expect({ status: res.status, code: res.body.error.code, param: res.body.error.param }).toEqual({ status: 400, code: 'invalid_request', param });
  };

  describe('hostile strings (NUL, unpaired surrogates) are 400 naming the field', () => {
    it('in a new user\'s name and email', async () => {
      for (const bad of HOSTILE) {
        const fresh = await newUser('hostile', false);
        expect400(await call('createUser', { token: fresh.token, body: { email: 'h@example.com', name: `N${bad}` } }), 'name');
        expect400(await call('createUser', { token: fresh.token, body: { email: `h${bad}@example.com`, name: 'N' } }), 'email');
        // Nothing was stored: the profile can still be created.
        expectOk(await call('createUser', { token: fresh.token, body: { email: 'h@example.com', name: 'N' } }), 201);
      }
    });

    it('in metadata keys and values, toUserId and paymentToken, on every write route', () =>
      fc.assert(
        fc.asyncProperty(hostileString, fc.constantFrom('key', 'value', 'toUserId', 'paymentToken'), fc.constantFrom<RouteName>('createDeposit', 'createWithdrawal', 'createTransfer', 'updateTransaction', 'createHold', 'captureHold', 'createRefund'), async (bad, where, route) => {
          const body: Record<string, unknown> = ['updateTransaction', 'captureHold', 'createRefund'].includes(route) ? {} : { amount: 1, currency: 'USD' };
          if (route === 'createTransfer' || route === 'createHold') body.toUserId = bystander.id;
          let param: string;
          if (where === 'key') [body.metadata, param] = [{ ok: 'v', [bad]: 'v' }, 'metadata'];
          else if (where === 'value') [body.metadata, param] = [{ k: bad }, 'metadata.k'];
          else if (where === 'toUserId' && (route === 'createTransfer' || route === 'createHold')) [body.toUserId, param] = [bad, 'toUserId'];
          else if (where === 'paymentToken' && route === 'createDeposit') [body.paymentToken, param] = [bad, 'paymentToken'];
          else [body.metadata, param] = [{ [`k${bad.length}`]: bad }, `metadata.k${bad.length}`];
          const res = await call(route, {
            ...(route === 'updateTransaction' || route === 'createRefund' ? { id: ownerTx, token: admin } : { token: owner.token }),
            ...((route === 'createDeposit' || route === 'createWithdrawal' || route === 'createHold') && { id: owner.id }),
            ...(route === 'captureHold' && { id: ownerHold, token: bystander.token }),
            body,
          });
          expect400(res, param);
          await expectUnchanged();
        }),
        { numRuns: RUNS },
      ));

    it('in query values', async () => {
      for (const bad of HOSTILE) {
        for (const name of ['cursor', 'type', 'status', 'limit']) {
          expect400(await call('listTransactions', { id: owner.id, token: owner.token, query: { [name]: bad } }), name);
        }
        for (const name of ['cursor', 'status', 'limit']) {
          expect400(await call('listHolds', { id: owner.id, token: owner.token, query: { [name]: bad } }), name);
        }
      }
    });
  });

  describe('hostile path ids are 404, never 500', () => {
    // What a lenient decoder leaves of overlong or invalid UTF-8 percent-encodings
    // (%C0%AE, %E0%80%AE, %ED%A0%80, %FF), and the escapes left undecoded.
    const decoded = ['%C0%AE', '%E0%80%AE', '%C0%80', '%ED%A0%80', '%FF', '%F8%88%80%80%80']
      .map((e) => Buffer.from(e.split('%').slice(1).map((h) => parseInt(h, 16))).toString('utf8'));
    const ids = [...HOSTILE, ...decoded];

    const BODIES: Partial<Record<RouteName, Record<string, unknown>>> = {
      createDeposit: { amount: 1, currency: 'USD' }, createWithdrawal: { amount: 1, currency: 'USD' }, createHold: { amount: 1, currency: 'USD' },
      updateTransaction: { status: 'completed' }, captureHold: {}, voidHold: {}, createRefund: {},
    };
    it.each([
      'getUser', 'getTransaction', 'listTransactions', 'createDeposit', 'createWithdrawal', 'updateTransaction',
      'createHold', 'getHold', 'listHolds', 'captureHold', 'voidHold', 'createRefund',
    ] as RouteName[])('%s', async (route) => {
      for (const id of [...ids, ...HOSTILE.map((h) => `${owner.id}${h}`), ...HOSTILE.map((h) => `${ownerHold}${h}`)]) {
        const body = BODIES[route];
        const withBody = body ? { body } : {};
        for (const token of [owner.token, admin]) {
          const res = await call(route, { id, token, ...withBody });
          expectContractError(res);
          expect([id, res.status, res.body.error.code]).toEqual([id, 404, 'not_found']);
        }
      }
      await expectUnchanged();
    });

    it('undecoded percent-escapes are an ordinary unknown id', async () => {
      for (const id of ['%C0%AE', '%ED%A0%80', '%00', '%FF']) {
        const res = await call('getTransaction', { id, token: admin });
        expectContractError(res);
        expect(res.status).toBe(404);
      }
    });
  });

  describe('numbers are judged by their literal', () => {
    // Each parses to an integer (JSON.parse rounds it) though its exact value is not one.
    const ROUNDING = ['0.99999999999999999', '1.00000000000000001', '99.9999999999999999', '100.00000000000000001', '1.0000000000000000000001e2', '99999999999.999999999', '1e-400', '10000000000000000001e-19'];

    it.each(ROUNDING)('%s is 400 with param "amount"', async (literal) => {
      expect(Number.isInteger(JSON.parse(literal))).toBe(true);
      for (const route of ['createDeposit', 'createWithdrawal'] as const) {
        expect400(await call(route, { id: owner.id, token: owner.token, body: `{"amount":${literal},"currency":"USD"}` }), 'amount');
      }
      expect400(await call('createTransfer', { token: owner.token, body: `{"toUserId":"${bystander.id}","amount":${literal},"currency":"USD"}` }), 'amount');
      expect400(await call('createHold', { id: owner.id, token: owner.token, body: `{"amount":${literal},"currency":"USD"}` }), 'amount');
      expect400(await call('createHold', { id: owner.id, token: owner.token, body: `{"amount":1,"currency":"USD","expiresInSeconds":${literal}}` }), 'expiresInSeconds');
      expect400(await call('captureHold', { id: ownerHold, token: bystander.token, body: `{"amount":${literal}}` }), 'amount');
      expect400(await call('createRefund', { id: ownerTx, token: admin, body: `{"amount":${literal}}` }), 'amount');
      await expectUnchanged();
    });

    it('the 2^53 boundaries are 400 (beyond the maximum amount)', async () => {
      for (const literal of ['9007199254740991', '9007199254740992', '9007199254740993', '9007199254740992.5', '9.007199254740993e15']) {
        expect400(await call('createWithdrawal', { id: owner.id, token: owner.token, body: `{"amount":${literal},"currency":"USD"}` }), 'amount');
        expect400(await call('createHold', { id: owner.id, token: owner.token, body: `{"amount":1,"currency":"USD","expiresInSeconds":${literal}}` }), 'expiresInSeconds');
        expect400(await call('captureHold', { id: ownerHold, token: bystander.token, body: `{"amount":${literal}}` }), 'amount');
        expect400(await call('createRefund', { id: ownerTx, token: admin, body: `{"amount":${literal}}` }), 'amount');
      }
      await expectUnchanged();
    });

    it('float literals that round to integers, generated', () =>
      fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 1_000_000 }),
          fc.integer({ min: 17, max: 40 }),
          fc.integer({ min: 1, max: 9 }),
          fc.constantFrom('above', 'below', 'exponent'),
          async (n, zeros, d, form) => {
            const literal = form === 'above' ? `${n}.${'0'.repeat(zeros)}${d}`
              : form === 'below' ? `${n - 1}.${'9'.repeat(zeros)}`
                : `${n}${'0'.repeat(zeros)}${d}e-${zeros + 1}`;
            fc.pre(Number.isInteger(JSON.parse(literal)));
            expect400(await call('createWithdrawal', { id: owner.id, token: owner.token, body: `{"amount":${literal},"currency":"USD"}` }), 'amount');
            await expectUnchanged();
          },
        ),
        { numRuns: RUNS },
      ));

    it('integral literals stay valid however they are written (1e2, 100.0, 1.5e1, 0.2e2)', async () => {
      const payer = await newUser('literal');
      for (const [literal, amount] of [['1e2', 100], ['100.0', 100], ['1.5e1', 15], ['0.2e2', 20], ['1E+2', 100], ['2.50e1', 25]] as const) {
        const tx = expectOk(await call('createDeposit', { id: payer.id, token: payer.token, body: `{"amount":${literal},"currency":"USD"}` }), 201);
        expect([literal, tx.amount]).toEqual([literal, amount]);
      }
    });
  });
});
