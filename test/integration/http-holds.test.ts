// Holds through their Lambda handlers with real API Gateway v2 events, on the memory
// store: authorize (POST /users/{id}/holds), read, list, capture, void, expire.
import '../support/memory-http-env';

import { randomUUID } from 'node:crypto';
import { app, resetApp } from '../../src/composition-root';
import { systemClock } from '../../src/adapters/system/system-clock';
import {
  call, expectError, expectOk, fund, newUser, storedState, type HttpResponse, type TestUser,
} from '../support/invoke';
import { adminToken } from '../support/tokens';

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[47][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let admin: string;
beforeAll(async () => {
  admin = await adminToken(`admin-${randomUUID()}`);
});
afterEach(() => jest.restoreAllMocks());
afterAll(() => resetApp());

type Body = Record<string, unknown> | string;
const hold = (u: TestUser, body: Body, headers?: Record<string, string>) =>
  call('createHold', { id: u.id, token: u.token, body, ...(headers && { headers }) });
const capture = (token: string, id: string, body: Body = {}, headers?: Record<string, string>) =>
  call('captureHold', { id, token, body, ...(headers && { headers }) });
const voidHold = (token: string, id: string, body?: Body, headers?: Record<string, string>) =>
  call('voidHold', { id, token, ...(body !== undefined && { body }), ...(headers && { headers }) });
/** A new hold of `payer`, 201. */
const held = async (payer: TestUser, amount: number, extra: Record<string, unknown> = {}) =>
  expectOk(await hold(payer, { amount, currency: 'USD', ...extra }), 201);
/** The USD balance as GET /users/{id} shows it. */
const usd = async (u: TestUser): Promise<{ available: number; held: number } | undefined> => {
  const user = expectOk(await call('getUser', { id: u.id, token: u.token }));
  const b = (user.balances as Array<{ currency: string; available: number; held: number }>).find((x) => x.currency === 'USD');
  return b && { available: b.available, held: b.held };
};
/** Moves the service's clock (the Clock port every use case reads) ahead, until the test ends. */
const clockAhead = (ms: number) =>
  jest.spyOn(systemClock, 'now').mockImplementation(() => new Date(Date.now() + ms).toISOString());
const ids = (page: { data: Array<{ id: string }> }): string[] => page.data.map((h) => h.id);

describe('POST /users/{id}/holds', () => {
  it('201 held: moves the amount from available to held, expires in an hour by default', async () => {
    const u = await newUser('h');
    await fund(u, 1000);
    const h = await held(u, 250, { metadata: { order: '7' } });
    expect(h).toEqual({
      id: expect.stringMatching(UUID), userId: u.id, amount: 250, currency: 'USD', capturedAmount: 0, status: 'held',
      expiresAt: expect.stringMatching(ISO_MS), metadata: { order: '7' }, createdAt: expect.stringMatching(ISO_MS), updatedAt: h.createdAt,
    });
    expect(Date.parse(h.expiresAt) - Date.parse(h.createdAt)).toBe(3_600_000);
    expect(await usd(u)).toEqual({ available: 750, held: 250 });
    // A hold is not a transaction: the history is unchanged.
    expect(expectOk(await call('listTransactions', { id: u.id, token: u.token })).data).toHaveLength(1);
  });

  it('names the payee and honours expiresInSeconds (1 to 604800)', async () => {
    const [u, payee] = [await newUser('hp'), await newUser('payee')];
    await fund(u, 1000);
    const h = await held(u, 100, { toUserId: payee.id, expiresInSeconds: 60 });
    expect(h).toMatchObject({ userId: u.id, toUserId: payee.id, status: 'held' });
    expect(Date.parse(h.expiresAt) - Date.parse(h.createdAt)).toBe(60_000);
    const week = await held(u, 1, { expiresInSeconds: 604_800 });
    expect(Date.parse(week.expiresAt) - Date.parse(week.createdAt)).toBe(604_800_000);
    const one = expectOk(await hold(u, '{"amount":1,"currency":"USD","expiresInSeconds":1e0}'), 201);
    expect(Date.parse(one.expiresAt) - Date.parse(one.createdAt)).toBe(1_000);
    expect(await usd(u)).toEqual({ available: 898, held: 102 });
    expect(await usd(payee)).toBeUndefined();
  });

  it('422 insufficient_funds: nothing held, nothing stored', async () => {
    const u = await newUser('hpoor');
    await fund(u, 100);
    await held(u, 60);
    const before = await storedState([u.id]);
    expectError(await hold(u, { amount: 41, currency: 'USD' }), 422, 'insufficient_funds', 'amount');
    expectError(await hold(u, { amount: 1, currency: 'EUR' }), 422, 'insufficient_funds', 'amount');
    expect(await storedState([u.id])).toEqual(before);
  });

  it('422 same_account_transfer for a hold to oneself; 404 toUserId for a payee without a profile', async () => {
    const u = await newUser('hself');
    await fund(u, 100);
    const before = await storedState([u.id]);
    expectError(await hold(u, { amount: 10, currency: 'USD', toUserId: u.id }), 422, 'same_account_transfer', 'toUserId');
    for (const toUserId of [`ghost-${randomUUID()}`, 'has spaces', 'x'.repeat(255)]) {
      expectError(await hold(u, { amount: 10, currency: 'USD', toUserId }), 404, 'not_found', 'toUserId');
    }
    expect(await storedState([u.id])).toEqual(before);
  });

  it('403 for someone else\'s id (admins included), 404 without a profile', async () => {
    const [u, other] = [await newUser('hown'), await newUser('hoth')];
    await fund(u, 100);
    const before = await storedState([u.id]);
    expectError(await call('createHold', { id: u.id, token: other.token, body: { amount: 1, currency: 'USD' } }), 403, 'forbidden');
    expectError(await call('createHold', { id: u.id, token: admin, body: { amount: 1, currency: 'USD' } }), 403, 'forbidden');
    expect(await storedState([u.id])).toEqual(before);
    const nobody = await newUser('hnp', false);
    expectError(await hold(nobody, { amount: 1, currency: 'USD' }), 404, 'not_found');
  });

  const BAD: Array<[string, string]> = [
    ['{"amount":0,"currency":"USD"}', 'amount'],
    ['{"amount":1.5,"currency":"USD"}', 'amount'],
    ['{"amount":0.99999999999999999,"currency":"USD"}', 'amount'],
    ['{"amount":"10","currency":"USD"}', 'amount'],
    ['{"amount":null,"currency":"USD"}', 'amount'],
    ['{"amount":100000000001,"currency":"USD"}', 'amount'],
    ['{"currency":"USD"}', 'amount'],
    ['{"amount":10,"currency":"usd"}', 'currency'],
    ['{"amount":10}', 'currency'],
    ['{"amount":10,"currency":"USD","toUserId":""}', 'toUserId'],
    [`{"amount":10,"currency":"USD","toUserId":"${'x'.repeat(256)}"}`, 'toUserId'],
    ['{"amount":10,"currency":"USD","toUserId":42}', 'toUserId'],
    ['{"amount":10,"currency":"USD","toUserId":null}', 'toUserId'],
    ['{"amount":10,"currency":"USD","expiresInSeconds":0}', 'expiresInSeconds'],
    ['{"amount":10,"currency":"USD","expiresInSeconds":-5}', 'expiresInSeconds'],
    ['{"amount":10,"currency":"USD","expiresInSeconds":604801}', 'expiresInSeconds'],
    ['{"amount":10,"currency":"USD","expiresInSeconds":1.5}', 'expiresInSeconds'],
    ['{"amount":10,"currency":"USD","expiresInSeconds":0.99999999999999999}', 'expiresInSeconds'],
    ['{"amount":10,"currency":"USD","expiresInSeconds":60.000000000000001}', 'expiresInSeconds'],
    ['{"amount":10,"currency":"USD","expiresInSeconds":1e400}', 'expiresInSeconds'],
    ['{"amount":10,"currency":"USD","expiresInSeconds":"60"}', 'expiresInSeconds'],
    ['{"amount":10,"currency":"USD","expiresInSeconds":null}', 'expiresInSeconds'],
    ['{"amount":10,"currency":"USD","expiresInSeconds":[60]}', 'expiresInSeconds'],
    ['{"amount":10,"currency":"USD","metadata":{"k":1}}', 'metadata.k'],
    ['{"amount":10,"currency":"USD","metadata":"x"}', 'metadata'],
    ['{"amount":10,"currency":"USD","status":"captured"}', 'status'],
    ['{"amount":10,"currency":"USD","userId":"victim"}', 'userId'],
    ['{"amount":10,"currency":"USD","expiresAt":"2099-01-01T00:00:00.000Z"}', 'expiresAt'],
  ];
  it.each(BAD)('400 for %s (param %s), nothing held', async (body, param) => {
    const [u, payee] = [await newUser('hbad'), await newUser('hbadp')];
    await fund(u, 100);
    const before = await storedState([u.id, payee.id]);
    expectError(await hold(u, body.replace('"toUserId":"ok"', `"toUserId":"${payee.id}"`)), 400, 'invalid_request', param);
    expect(await storedState([u.id, payee.id])).toEqual(before);
  });
});

describe('GET /holds/{id}', () => {
  it('200 for the payer, the payee and an admin; 404 for anyone else, like a missing hold', async () => {
    const [payer, payee, stranger] = [await newUser('gp'), await newUser('gq'), await newUser('gs')];
    await fund(payer, 100);
    const h = await held(payer, 40, { toUserId: payee.id });
    for (const token of [payer.token, payee.token, admin]) expect(expectOk(await call('getHold', { id: h.id, token }))).toEqual(h);
    const other = await call('getHold', { id: h.id, token: stranger.token });
    const missing = await call('getHold', { id: randomUUID(), token: stranger.token });
    expectError(other, 404, 'not_found');
    expectError(missing, 404, 'not_found');
    expect(other.body.error.message).toBe(missing.body.error.message);
  });

  it.each(['not-a-uuid', '1', "' OR '1'='1", '..', '%00', 'a'.repeat(300)])('404 for malformed id %j', async (id) => {
    expectError(await call('getHold', { id, token: admin }), 404, 'not_found');
  });
});

describe('GET /users/{id}/holds', () => {
  let u: TestUser;
  const made: string[] = [];
  beforeAll(async () => {
    u = await newUser('hl');
    await fund(u, 1000);
    for (let i = 0; i < 5; i++) made.push((await held(u, 10 + i)).id);
    const voided = made[1] as string;
    expectOk(await voidHold(u.token, voided));
  });

  it('pages newest first until nextCursor is null, no repeats or gaps', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const page = expectOk(await call('listHolds', { id: u.id, token: u.token, query: { limit: '2', ...(cursor && { cursor }) } }));
      expect(Object.keys(page).sort()).toEqual(['data', 'nextCursor']);
      seen.push(...page.data.map((h: { id: string }) => h.id));
      if (page.nextCursor === null) break;
      cursor = page.nextCursor;
    }
    const all = expectOk(await call('listHolds', { id: u.id, token: u.token })).data as Array<{ id: string; createdAt: string }>;
    const newestFirst = [...all].sort((a, b) => (a.createdAt === b.createdAt ? (a.id < b.id ? 1 : -1) : a.createdAt < b.createdAt ? 1 : -1));
    expect(all.map((h) => h.id)).toEqual(newestFirst.map((h) => h.id));
    expect(seen).toEqual(all.map((h) => h.id));
    expect([...seen].sort()).toEqual([...made].sort());
  });

  it('filters by status, also across pages', async () => {
    const live = expectOk(await call('listHolds', { id: u.id, token: u.token, query: { status: 'held', limit: '3' } }));
    expect(live.data).toHaveLength(3);
    const rest = expectOk(await call('listHolds', { id: u.id, token: u.token, query: { status: 'held', limit: '3', cursor: live.nextCursor } }));
    expect(rest.nextCursor).toBeNull();
    expect([...ids(live), ...ids(rest)].sort()).toEqual(made.filter((id) => id !== made[1]).sort());
    expect(ids(expectOk(await call('listHolds', { id: u.id, token: u.token, query: { status: 'voided' } })))).toEqual([made[1]]);
    expect(expectOk(await call('listHolds', { id: u.id, token: u.token, query: { status: 'captured' } }))).toEqual({ data: [], nextCursor: null });
  });

  it('lists only the holds the user pays, not those they are payee of', async () => {
    const payee = await newUser('hlp');
    const h = await held(u, 1, { toUserId: payee.id });
    expect(expectOk(await call('listHolds', { id: payee.id, token: payee.token }))).toEqual({ data: [], nextCursor: null });
    expect(ids(expectOk(await call('listHolds', { id: u.id, token: u.token, query: { limit: '1' } })))).toEqual([h.id]);
    expectOk(await voidHold(payee.token, h.id));
  });

  it.each([
    [{ limit: '0' }, 'limit'], [{ limit: '101' }, 'limit'], [{ limit: 'abc' }, 'limit'], [{ limit: '' }, 'limit'],
    [{ status: 'pending' }, 'status'], [{ status: 'HELD' }, 'status'], [{ type: 'deposit' }, 'type'], [{ foo: 'bar' }, 'foo'],
    [{ cursor: '' }, 'cursor'], [{ cursor: 'garbage' }, 'cursor'],
  ])('400 for %j naming %s', async (query, param) => {
    expectError(await call('listHolds', { id: u.id, token: u.token, query }), 400, 'invalid_request', param);
  });

  it('400 cursor for a tampered cursor, one of another status filter, user or listing', async () => {
    const page = expectOk(await call('listHolds', { id: u.id, token: u.token, query: { limit: '1' } }));
    const cursor = page.nextCursor as string;
    const tampered = `${cursor.slice(0, 5)}${cursor[5] === 'A' ? 'B' : 'A'}${cursor.slice(6)}`;
    expectError(await call('listHolds', { id: u.id, token: u.token, query: { cursor: tampered } }), 400, 'invalid_request', 'cursor');
    expectError(await call('listHolds', { id: u.id, token: u.token, query: { cursor, status: 'held' } }), 400, 'invalid_request', 'cursor');
    const other = await newUser('hlo');
    expectError(await call('listHolds', { id: other.id, token: admin, query: { cursor } }), 400, 'invalid_request', 'cursor');
    // A transactions cursor does not page through holds, nor the reverse.
    await fund(u, 1);
    await fund(u, 1);
    const txCursor = expectOk(await call('listTransactions', { id: u.id, token: u.token, query: { limit: '1' } })).nextCursor as string;
    expectError(await call('listHolds', { id: u.id, token: u.token, query: { cursor: txCursor } }), 400, 'invalid_request', 'cursor');
    expectError(await call('listTransactions', { id: u.id, token: u.token, query: { cursor } }), 400, 'invalid_request', 'cursor');
  });

  it('admin may list, another user may not, an unknown user is 404', async () => {
    expect(expectOk(await call('listHolds', { id: u.id, token: admin })).data.length).toBeGreaterThanOrEqual(made.length);
    const other = await newUser('hlx');
    expectError(await call('listHolds', { id: u.id, token: other.token }), 403, 'forbidden');
    expectError(await call('listHolds', { id: `ghost-${randomUUID()}`, token: admin }), 404, 'not_found');
  });
});

describe('POST /holds/{id}/capture', () => {
  it('a full capture with a payee is a completed transfer naming the hold, in both histories', async () => {
    const [payer, payee] = [await newUser('cp'), await newUser('cq')];
    await fund(payer, 1000);
    const h = await held(payer, 250, { toUserId: payee.id, metadata: { from: 'hold' } });
    const tx = expectOk(await capture(payee.token, h.id, { metadata: { order: '9' } }), 201);
    expect(tx).toEqual({
      id: expect.stringMatching(UUID), type: 'transfer', status: 'completed', userId: payer.id, toUserId: payee.id, amount: 250,
      currency: 'USD', metadata: { order: '9' }, createdAt: expect.stringMatching(ISO_MS), updatedAt: tx.createdAt,
      refundedAmount: 0, holdId: h.id,
    });
    expect(await usd(payer)).toEqual({ available: 750, held: 0 });
    expect(await usd(payee)).toEqual({ available: 250, held: 0 });
    const after = expectOk(await call('getHold', { id: h.id, token: payer.token }));
    expect(after).toEqual({ ...h, status: 'captured', capturedAmount: 250, transactionId: tx.id, updatedAt: expect.stringMatching(ISO_MS) });
    for (const u of [payer, payee]) expect(ids(expectOk(await call('listTransactions', { id: u.id, token: u.token, query: { type: 'transfer' } })))).toEqual([tx.id]);
    expect(ids(expectOk(await call('listHolds', { id: payer.id, token: payer.token, query: { status: 'captured' } })))).toEqual([h.id]);
  });

  it('a partial capture moves the amount and returns the rest to available', async () => {
    const [payer, payee] = [await newUser('pp'), await newUser('pq')];
    await fund(payer, 1000);
    const h = await held(payer, 250, { toUserId: payee.id });
    const tx = expectOk(await capture(admin, h.id, { amount: 100 }), 201);
    expect(tx).toMatchObject({ type: 'transfer', amount: 100, holdId: h.id, metadata: {} });
    expect(await usd(payer)).toEqual({ available: 900, held: 0 });
    expect(await usd(payee)).toEqual({ available: 100, held: 0 });
    expect(expectOk(await call('getHold', { id: h.id, token: payee.token }))).toMatchObject({ status: 'captured', capturedAmount: 100, amount: 250 });
  });

  it('without a payee the payer captures, and the capture is a withdrawal', async () => {
    const u = await newUser('cw');
    await fund(u, 500);
    const h = await held(u, 200);
    const tx = expectOk(await capture(u.token, h.id, { amount: 150 }), 201);
    expect(tx).toMatchObject({ type: 'withdrawal', status: 'completed', userId: u.id, amount: 150, holdId: h.id, refundedAmount: 0 });
    expect(tx).not.toHaveProperty('toUserId');
    expect(await usd(u)).toEqual({ available: 350, held: 0 });
    expect(expectOk(await call('getHold', { id: h.id, token: u.token }))).toMatchObject({ status: 'captured', capturedAmount: 150, transactionId: tx.id });
  });

  it('400 amount above the hold (the hold checked first), nothing changes', async () => {
    const u = await newUser('cbig');
    await fund(u, 500);
    const h = await held(u, 200);
    const before = await storedState([u.id]);
    expectError(await capture(u.token, h.id, { amount: 201 }), 400, 'invalid_request', 'amount');
    expect(await storedState([u.id])).toEqual(before);
  });

  it('422 invalid_state_transition for a second capture and for a capture after a void', async () => {
    const u = await newUser('c2');
    await fund(u, 500);
    const [a, b] = [await held(u, 100), await held(u, 100)];
    expectOk(await capture(u.token, a.id), 201);
    expectOk(await voidHold(u.token, b.id));
    const before = await storedState([u.id]);
    expectError(await capture(u.token, a.id), 422, 'invalid_state_transition');
    expectError(await capture(u.token, b.id), 422, 'invalid_state_transition');
    expectError(await voidHold(u.token, a.id), 422, 'invalid_state_transition');
    expectError(await voidHold(u.token, b.id), 422, 'invalid_state_transition');
    expect(await storedState([u.id])).toEqual(before);
  });

  it.each([
    [{ amount: 0 }, 'amount'], [{ amount: 1.5 }, 'amount'], [{ amount: '1' }, 'amount'], [{ amount: null }, 'amount'],
    [{ amount: 100_000_000_001 }, 'amount'], [{ metadata: { k: 5 } }, 'metadata.k'], [{ metadata: [] }, 'metadata'],
    [{ currency: 'USD' }, 'currency'], [{ toUserId: 'x' }, 'toUserId'], [{ holdId: 'x' }, 'holdId'],
    ['{"amount":0.99999999999999999}', 'amount'], ['{"amount":1.00000000000000001}', 'amount'],
  ])('400 for %j (param %s), nothing moves', async (body, param) => {
    const u = await newUser('cbad');
    await fund(u, 500);
    const h = await held(u, 100);
    const before = await storedState([u.id]);
    expectError(await capture(u.token, h.id, body), 400, 'invalid_request', param);
    expect(await storedState([u.id])).toEqual(before);
  });

  it('400 for a missing body, 415 for another content type', async () => {
    const u = await newUser('cnb');
    await fund(u, 500);
    const h = await held(u, 100);
    expectError(await call('captureHold', { id: h.id, token: u.token }), 400, 'invalid_request');
    expectError(await call('captureHold', { id: h.id, token: u.token, body: '{}', contentType: 'text/plain' }), 415, 'unsupported_media_type', 'Content-Type');
    expect(await usd(u)).toEqual({ available: 400, held: 100 });
  });
});

describe('POST /holds/{id}/void', () => {
  it('200 voided with no body, `{}`, or an empty body: the whole amount returns to available', async () => {
    const u = await newUser('v');
    await fund(u, 500);
    const [a, b, c] = [await held(u, 100), await held(u, 50), await held(u, 25)];
    const voided = expectOk(await voidHold(u.token, a.id));
    expect(voided).toEqual({ ...a, status: 'voided', updatedAt: expect.stringMatching(ISO_MS) });
    expect(expectOk(await voidHold(u.token, b.id, {})).status).toBe('voided');
    expect(expectOk(await voidHold(u.token, c.id, ''))).toMatchObject({ id: c.id, status: 'voided' });
    expect(await usd(u)).toEqual({ available: 500, held: 0 });
    expect(expectOk(await call('getHold', { id: a.id, token: u.token }))).toEqual(voided);
  });

  it.each([
    ['{"amount":1}', 400, 'amount'], ['{"status":"voided"}', 400, 'status'], ['{"metadata":{}}', 400, 'metadata'],
    ['[]', 400, undefined], ['null', 400, undefined], ['"x"', 400, undefined], ['{', 400, undefined], ['   ', 400, undefined],
  ] as const)('%s is %i (param %s) and voids nothing', async (body, status, param) => {
    const u = await newUser('vbad');
    await fund(u, 500);
    const h = await held(u, 100);
    const before = await storedState([u.id]);
    expectError(await voidHold(u.token, h.id, body), status, 'invalid_request', param);
    expect(await storedState([u.id])).toEqual(before);
  });

  it('415 for a body sent as another content type', async () => {
    const u = await newUser('vct');
    await fund(u, 500);
    const h = await held(u, 100);
    expectError(await call('voidHold', { id: h.id, token: u.token, body: '{}', contentType: 'text/plain' }), 415, 'unsupported_media_type', 'Content-Type');
    expect(await usd(u)).toEqual({ available: 400, held: 100 });
  });
});

describe('who may capture and void', () => {
  it('the payee and an admin may; the payer of a hold with a payee gets 403; anyone else 404', async () => {
    const [payer, payee, stranger] = [await newUser('wp'), await newUser('wq'), await newUser('ws')];
    await fund(payer, 1000);
    const [a, b, c] = [await held(payer, 100, { toUserId: payee.id }), await held(payer, 100, { toUserId: payee.id }), await held(payer, 100, { toUserId: payee.id })];
    const before = await storedState([payer.id, payee.id]);
    expectError(await capture(payer.token, a.id), 403, 'forbidden');
    expectError(await voidHold(payer.token, a.id), 403, 'forbidden');
    expectError(await capture(stranger.token, a.id), 404, 'not_found');
    expectError(await voidHold(stranger.token, a.id), 404, 'not_found');
    expect(await storedState([payer.id, payee.id])).toEqual(before);
    expectOk(await capture(payee.token, a.id), 201);
    expectOk(await voidHold(payee.token, b.id));
    expectOk(await voidHold(admin, c.id));
    expect(await usd(payer)).toEqual({ available: 900, held: 0 });
    expect(await usd(payee)).toEqual({ available: 100, held: 0 });
  });

  it('without a payee: the payer and an admin may; anyone else 404', async () => {
    const [payer, stranger] = [await newUser('np'), await newUser('ns')];
    await fund(payer, 1000);
    const [a, b] = [await held(payer, 100), await held(payer, 100)];
    expectError(await capture(stranger.token, a.id), 404, 'not_found');
    expectError(await voidHold(stranger.token, a.id), 404, 'not_found');
    expect(expectOk(await capture(admin, a.id), 201)).toMatchObject({ type: 'withdrawal', userId: payer.id });
    expectOk(await voidHold(admin, b.id));
    expect(await usd(payer)).toEqual({ available: 900, held: 0 });
  });

  it.each(['captureHold', 'voidHold'] as const)('%s: 404 for malformed and unknown ids', async (route) => {
    for (const id of ['nope', '1', "' OR '1'='1", randomUUID(), 'x'.repeat(300)]) {
      expectError(await call(route, { id, token: admin, body: {} }), 404, 'not_found');
    }
  });
});

describe('expiry', () => {
  it('a hold past expiresAt reads as expired, its money is available again, and capture or void is 422 hold_expired', async () => {
    const [payer, payee] = [await newUser('ep'), await newUser('eq')];
    await fund(payer, 1000);
    const h = await held(payer, 300, { toUserId: payee.id, expiresInSeconds: 60 });
    const kept = await held(payer, 100, { expiresInSeconds: 3600 });
    expect(await usd(payer)).toEqual({ available: 600, held: 400 });

    clockAhead(60_000);
    const expired = expectOk(await call('getHold', { id: h.id, token: payee.token }));
    expect(expired).toEqual({ ...h, status: 'expired', updatedAt: h.expiresAt });
    expect(await usd(payer)).toEqual({ available: 900, held: 100 });
    const before = await storedState([payer.id, payee.id]);
    expectError(await capture(payee.token, h.id), 422, 'hold_expired');
    expectError(await voidHold(payee.token, h.id), 422, 'hold_expired');
    expectError(await capture(admin, h.id, {}, { 'Idempotency-Key': `exp-${randomUUID()}` }), 422, 'hold_expired');
    expect(await storedState([payer.id, payee.id])).toEqual(before);
    expect(ids(expectOk(await call('listHolds', { id: payer.id, token: payer.token, query: { status: 'expired' } })))).toEqual([h.id]);
    expect(ids(expectOk(await call('listHolds', { id: payer.id, token: payer.token, query: { status: 'held' } })))).toEqual([kept.id]);
    // The released money can be spent at once: the movement releases it in its own step.
    expectOk(await call('createWithdrawal', { id: payer.id, token: payer.token, body: { amount: 900, currency: 'USD' } }), 201);
    expect(await usd(payer)).toEqual({ available: 0, held: 100 });
  });

  it('the scheduled function releases holds nobody touched', async () => {
    const u = await newUser('es');
    await fund(u, 1000);
    const h = await held(u, 300, { expiresInSeconds: 1 });
    const { storage } = await app();
    // As of its creation, the stored state shows: still held until something releases it.
    expect((await storage.ledger.getHold(h.id, h.createdAt))?.status).toBe('held');
    clockAhead(1_000);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { handler } = require('../../functions/reconcile-deposits') as typeof import('../../functions/reconcile-deposits');
    await handler();
    expect(await storage.ledger.getHold(h.id, h.createdAt)).toMatchObject({ status: 'expired', updatedAt: h.expiresAt });
    expect(await usd(u)).toEqual({ available: 1000, held: 0 });
  });
});

describe('idempotent replays', () => {
  const key = () => `key-${randomUUID()}`;
  /** The same status and body (an error's requestId is each request's own). */
  const expectReplay = (first: HttpResponse, again: HttpResponse): void => {
    const same = (r: HttpResponse) => (r.body.error ? { error: { ...r.body.error, requestId: 'r' } } : r.body);
    expect([again.status, same(again)]).toEqual([first.status, same(first)]);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect(again.headers['idempotent-replayed']).toBe('true');
  };

  it('POST /users/{id}/holds: the same key and body hold once; another body is 422 idempotency_key_reused', async () => {
    const [u, payee] = [await newUser('ih'), await newUser('ihq')];
    await fund(u, 1000);
    const k = key();
    const body = { amount: 100, currency: 'USD', toUserId: payee.id };
    const first = await hold(u, body, { 'Idempotency-Key': k });
    expectOk(first, 201);
    expectReplay(first, await hold(u, body, { 'Idempotency-Key': k }));
    expect(await usd(u)).toEqual({ available: 900, held: 100 });
    const before = await storedState([u.id, payee.id]);
    for (const other of [{ ...body, amount: 101 }, { ...body, expiresInSeconds: 60 }, { amount: 100, currency: 'USD' }]) {
      expectError(await hold(u, other, { 'Idempotency-Key': k }), 422, 'idempotency_key_reused', 'Idempotency-Key');
    }
    // The same key on another keyed route is another request too.
    expectError(await call('createWithdrawal', { id: u.id, token: u.token, body: { amount: 1, currency: 'USD' }, headers: { 'Idempotency-Key': k } }), 422, 'idempotency_key_reused', 'Idempotency-Key');
    expect(await storedState([u.id, payee.id])).toEqual(before);
  });

  it('POST /holds/{id}/capture: the same key and body capture once; another body or hold is 422 idempotency_key_reused', async () => {
    const [u, payee] = [await newUser('ic'), await newUser('icq')];
    await fund(u, 1000);
    const [h, h2] = [await held(u, 300, { toUserId: payee.id }), await held(u, 300, { toUserId: payee.id })];
    const k = key();
    const first = await capture(payee.token, h.id, { amount: 200 }, { 'Idempotency-Key': k });
    expectOk(first, 201);
    expectReplay(first, await capture(payee.token, h.id, { amount: 200 }, { 'Idempotency-Key': k }));
    expect(await usd(payee)).toEqual({ available: 200, held: 0 });
    const before = await storedState([u.id, payee.id]);
    expectError(await capture(payee.token, h.id, { amount: 201 }, { 'Idempotency-Key': k }), 422, 'idempotency_key_reused', 'Idempotency-Key');
    expectError(await capture(payee.token, h.id, {}, { 'Idempotency-Key': k }), 422, 'idempotency_key_reused', 'Idempotency-Key');
    expectError(await capture(payee.token, h2.id, { amount: 200 }, { 'Idempotency-Key': k }), 422, 'idempotency_key_reused', 'Idempotency-Key');
    expectError(await voidHold(payee.token, h.id, undefined, { 'Idempotency-Key': k }), 422, 'idempotency_key_reused', 'Idempotency-Key');
    expect(await storedState([u.id, payee.id])).toEqual(before);
  });

  it('POST /holds/{id}/void: the same key voids once (with or without `{}`); another hold is 422 idempotency_key_reused', async () => {
    const u = await newUser('iv');
    await fund(u, 1000);
    const [h, h2] = [await held(u, 300), await held(u, 300)];
    const k = key();
    const first = await voidHold(u.token, h.id, undefined, { 'Idempotency-Key': k });
    expect(expectOk(first).status).toBe('voided');
    expectReplay(first, await voidHold(u.token, h.id, undefined, { 'Idempotency-Key': k }));
    expectReplay(first, await voidHold(u.token, h.id, {}, { 'Idempotency-Key': k }));
    const before = await storedState([u.id]);
    expectError(await voidHold(u.token, h2.id, undefined, { 'Idempotency-Key': k }), 422, 'idempotency_key_reused', 'Idempotency-Key');
    expectError(await capture(u.token, h.id, {}, { 'Idempotency-Key': k }), 422, 'idempotency_key_reused', 'Idempotency-Key');
    expect(await storedState([u.id])).toEqual(before);
    expect(await usd(u)).toEqual({ available: 700, held: 300 });
  });

  it('a 4xx first outcome is replayed as that 4xx, even once it would succeed', async () => {
    const u = await newUser('i4');
    await fund(u, 100);
    const k = key();
    const first = await hold(u, { amount: 500, currency: 'USD' }, { 'Idempotency-Key': k });
    expectError(first, 422, 'insufficient_funds', 'amount');
    await fund(u, 1000);
    const again = await hold(u, { amount: 500, currency: 'USD' }, { 'Idempotency-Key': k });
    expectError(again, 422, 'insufficient_funds', 'amount');
    expectReplay(first, again);
    expect(await usd(u)).toEqual({ available: 1100, held: 0 });

    const h = await held(u, 100);
    expectOk(await voidHold(u.token, h.id));
    const k2 = key();
    const refused = await capture(u.token, h.id, {}, { 'Idempotency-Key': k2 });
    expectError(refused, 422, 'invalid_state_transition');
    expectReplay(refused, await capture(u.token, h.id, {}, { 'Idempotency-Key': k2 }));
  });

  it.each(['createHold', 'captureHold', 'voidHold'] as const)('%s: 400 param Idempotency-Key for a bad key, no effect', async (route) => {
    const u = await newUser('ibad');
    await fund(u, 1000);
    const h = await held(u, 100);
    const before = await storedState([u.id]);
    for (const k of ['k'.repeat(256), 'clé', 'a\u0001b', '']) {
      const init = route === 'createHold' ? { id: u.id, body: { amount: 1, currency: 'USD' } } : { id: h.id, body: {} };
      expectError(await call(route, { ...init, token: u.token, headers: { 'Idempotency-Key': k } }), 400, 'invalid_request', 'Idempotency-Key');
    }
    expect(await storedState([u.id])).toEqual(before);
  });
});
