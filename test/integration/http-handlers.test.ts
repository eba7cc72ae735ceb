// Every route through its Lambda handler with real API Gateway v2 events, on the
// memory store and the built-in fake gateway. Behaviour as the contract words it.
import '../support/memory-http-env';

import { randomUUID } from 'node:crypto';
import { app, resetApp } from '../../src/composition-root';
import { sharedFakeGatewayState } from '../../src/adapters/payment-gateway/fake-payment-gateway';
import { uuidv7 } from '../../src/adapters/system/system-clock';
import { ServiceUnavailable } from '../../src/core/errors';
import { MAX_BALANCE } from '../../src/core/money';
import { logger } from '../../src/observability/logger';
import {
  balanceOf, call, callUnmatched, expectCommonHeaders, expectError, expectOk, fund, newUser, storedState, type TestUser,
} from '../support/invoke';
import { startSandboxGateway } from '../support/sandbox-gateway';
import { adminToken, TEST_JWT_SECRET, userToken } from '../support/tokens';

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[47][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let admin: string;
beforeAll(async () => {
  expect(process.env.AUTH_JWT_SECRET).toBe(TEST_JWT_SECRET);
  admin = await adminToken(`admin-${randomUUID()}`);
});
afterAll(() => resetApp());

const deposit = (u: TestUser, body: Record<string, unknown>, headers?: Record<string, string>) =>
  call('createDeposit', { id: u.id, token: u.token, body, ...(headers && { headers }) });
const withdraw = (u: TestUser, body: Record<string, unknown>, headers?: Record<string, string>) =>
  call('createWithdrawal', { id: u.id, token: u.token, body, ...(headers && { headers }) });
const transfer = (u: TestUser, body: Record<string, unknown>, headers?: Record<string, string>) =>
  call('createTransfer', { token: u.token, body, ...(headers && { headers }) });
const history = async (userId: string) => (await storedState([userId])).histories[userId] ?? [];
/** A balance near the maximum, credited straight through the ledger (no request may carry that much). */
const seedBalance = async (userId: string, amount: number): Promise<void> => {
  const { storage } = await app();
  const now = new Date().toISOString();
  const d = await storage.ledger.createDeposit({
    id: uuidv7(), type: 'deposit', status: 'pending', userId, amount, currency: 'USD', metadata: {}, createdAt: now, updatedAt: now,
  });
  await storage.ledger.settle({ id: d.id, status: 'completed', now });
};

describe('POST /users', () => {
  it('creates the caller\'s profile from the token sub with zero balances', async () => {
    const id = `auth0|${randomUUID()}`;
    const res = await call('createUser', { token: await userToken(id), body: { email: 'ada@example.com', name: 'Ada' } });
    const user = expectOk(res, 201);
    expect(user).toEqual({ id, email: 'ada@example.com', name: 'Ada', createdAt: expect.stringMatching(ISO_MS), balances: [] });
  });

  it('answers 409 user_exists for a second profile, keeping the first', async () => {
    const u = await newUser('dup');
    const res = await call('createUser', { token: u.token, body: { email: 'other@example.com', name: 'Other' } });
    expectError(res, 409, 'user_exists');
    const got = expectOk(await call('getUser', { id: u.id, token: u.token }));
    expect(got.email).toBe('dup@example.com');
  });

  it.each([
    [{ email: 'not-an-email', name: 'Ada' }, 'email'],
    [{ email: `${'a'.repeat(250)}@example.com`, name: 'Ada' }, 'email'],
    [{ email: 'ada@example.com', name: '' }, 'name'],
    [{ email: 'ada@example.com', name: '   ' }, 'name'],
    [{ email: 'ada@example.com', name: 'n'.repeat(101) }, 'name'],
    [{ name: 'Ada' }, 'email'],
  ])('400 for %j (param %s) and no profile', async (body, param) => {
    const id = `bad-${randomUUID()}`;
    const token = await userToken(id);
    expectError(await call('createUser', { token, body }), 400, 'invalid_request', param);
    expectError(await call('getUser', { id, token }), 404, 'not_found');
  });
});

describe('GET /users/{id}', () => {
  it('shows the owner their balances, every currency ever held', async () => {
    const u = await newUser('bal');
    await fund(u, 1050);
    await fund(u, 300, 'EUR');
    expectOk(await withdraw(u, { amount: 300, currency: 'EUR' }), 201);
    const user = expectOk(await call('getUser', { id: u.id, token: u.token }));
    expect(user.id).toBe(u.id);
    expect(user.balances).toEqual(expect.arrayContaining([{ currency: 'USD', available: 1050, held: 0 }, { currency: 'EUR', available: 0, held: 0 }]));
    expect(user.balances).toHaveLength(2);
  });

  it('is 403 for another user and 200 for an admin', async () => {
    const [a, b] = [await newUser('a'), await newUser('b')];
    expectError(await call('getUser', { id: a.id, token: b.token }), 403, 'forbidden');
    expect(expectOk(await call('getUser', { id: a.id, token: admin })).id).toBe(a.id);
  });

  it('is 404 for an unknown user', async () => {
    expectError(await call('getUser', { id: `ghost-${randomUUID()}`, token: admin }), 404, 'not_found');
    const noProfile = await newUser('np', false);
    expectError(await call('getUser', { id: noProfile.id, token: noProfile.token }), 404, 'not_found');
  });
});

describe('POST /users/{id}/deposits', () => {
  it('tok_ok (and the default token) completes and credits', async () => {
    const u = await newUser('dep');
    const tx = expectOk(await deposit(u, { amount: 1050, currency: 'USD', paymentToken: 'tok_ok', metadata: { order: '42' } }), 201);
    expect(tx).toEqual({
      id: expect.stringMatching(UUID), type: 'deposit', status: 'completed', userId: u.id, amount: 1050, currency: 'USD',
      metadata: { order: '42' }, createdAt: expect.stringMatching(ISO_MS), updatedAt: expect.stringMatching(ISO_MS), refundedAmount: 0,
    });
    expect(expectOk(await deposit(u, { amount: 50, currency: 'USD' }), 201).status).toBe('completed');
    expect(await balanceOf(u.id)).toBe(1100);
  });

  it('tok_pending stays pending and is not credited', async () => {
    const u = await newUser('pend');
    const tx = expectOk(await deposit(u, { amount: 700, currency: 'USD', paymentToken: 'tok_pending' }), 201);
    expect(tx.status).toBe('pending');
    expect(await balanceOf(u.id)).toBe(0);
  });

  it('never shows the gateway\'s internal payment reference: fresh, replayed, read, listed or patched', async () => {
    const u = await newUser('ref');
    const headers = { 'Idempotency-Key': `ref-${randomUUID()}` };
    const first = expectOk(await deposit(u, { amount: 700, currency: 'USD', paymentToken: 'tok_pending' }, headers), 201);
    const { storage } = await app();
    expect((await storage.ledger.getTransaction(first.id))?.paymentRef).toEqual(expect.any(String));
    const replay = await deposit(u, { amount: 700, currency: 'USD', paymentToken: 'tok_pending' }, headers);
    const read = expectOk(await call('getTransaction', { id: first.id, token: u.token }));
    const listed = expectOk(await call('listTransactions', { id: u.id, token: u.token })).data[0];
    const patched = expectOk(await call('updateTransaction', { id: first.id, token: admin, body: { metadata: { a: 'b' } } }));
    for (const shown of [first, replay.body, read, listed, patched]) {
      expect(shown).toMatchObject({ id: first.id });
      expect(JSON.stringify(shown)).not.toMatch(/paymentRef|pay_/);
    }
  });

  it('tok_declined is 402 payment_failed naming a failed deposit, nothing credited', async () => {
    const u = await newUser('decl');
    const res = await deposit(u, { amount: 700, currency: 'USD', paymentToken: 'tok_declined' });
    expectError(res, 402, 'payment_failed', res.body?.error?.param);
    const txId = res.body.error.transactionId as string;
    expect(txId).toMatch(UUID);
    const tx = expectOk(await call('getTransaction', { id: txId, token: u.token }));
    expect(tx).toMatchObject({ id: txId, type: 'deposit', status: 'failed', amount: 700, userId: u.id });
    expect(await balanceOf(u.id)).toBe(0);
  });

  it('422 balance_limit_exceeded when the balance cannot hold the deposit: refused before the gateway is asked, nothing stored', async () => {
    const u = await newUser('full');
    await seedBalance(u.id, MAX_BALANCE - 100);
    const payments = sharedFakeGatewayState().payments;
    const charged = payments.size;
    const key = `key-${randomUUID()}`;
    expectError(await deposit(u, { amount: 101, currency: 'USD' }, { 'idempotency-key': key }), 422, 'balance_limit_exceeded', 'amount');
    const replay = await deposit(u, { amount: 101, currency: 'USD' }, { 'idempotency-key': key });
    expectError(replay, 422, 'balance_limit_exceeded', 'amount');
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(payments.size).toBe(charged);
    expect(await history(u.id)).toHaveLength(1);
    expect(await balanceOf(u.id)).toBe(MAX_BALANCE - 100);
    // Up to the maximum exactly is fine.
    expect(expectOk(await deposit(u, { amount: 100, currency: 'USD' }), 201).status).toBe('completed');
    expect(await balanceOf(u.id)).toBe(MAX_BALANCE);
  });

  it('is 404 without a profile and stores nothing', async () => {
    const u = await newUser('noprof', false);
    expectError(await deposit(u, { amount: 100, currency: 'USD' }), 404, 'not_found');
    expect(await history(u.id)).toEqual([]);
    expect(await balanceOf(u.id)).toBe(0);
  });

  it.each([
    [{ amount: 10.5, currency: 'USD' }, 'amount'],
    [{ amount: '100', currency: 'USD' }, 'amount'],
    [{ amount: 0, currency: 'USD' }, 'amount'],
    [{ amount: -1, currency: 'USD' }, 'amount'],
    [{ amount: null, currency: 'USD' }, 'amount'],
    [{ amount: 100_000_000_001, currency: 'USD' }, 'amount'],
    [{ amount: 100, currency: 'usd' }, 'currency'],
    [{ amount: 100, currency: 'XXX' }, 'currency'],
  ])('400 for %j', async (body, param) => {
    const u = await newUser('val');
    expectError(await deposit(u, body), 400, 'invalid_request', param);
    expect(await history(u.id)).toEqual([]);
  });

  it('honours MAX_AMOUNT configured downward', async () => {
    const u = await newUser('max');
    process.env.MAX_AMOUNT = '500';
    try {
      expectError(await deposit(u, { amount: 501, currency: 'USD' }), 400, 'invalid_request', 'amount');
      expectOk(await deposit(u, { amount: 500, currency: 'USD' }), 201);
      expectError(await withdraw(u, { amount: 501, currency: 'USD' }), 400, 'invalid_request', 'amount');
    } finally {
      delete process.env.MAX_AMOUNT;
    }
    expect(await balanceOf(u.id)).toBe(500);
  });

  it('accepts exponent notation that is an integer (1e3) and rejects 1.5e0', async () => {
    const u = await newUser('exp');
    const res = await call('createDeposit', { id: u.id, token: u.token, body: '{"amount":1e3,"currency":"USD"}' });
    expect(expectOk(res, 201).amount).toBe(1000);
    expectError(await call('createDeposit', { id: u.id, token: u.token, body: '{"amount":1.5e0,"currency":"USD"}' }), 400, 'invalid_request', 'amount');
  });
});

describe('POST /users/{id}/withdrawals', () => {
  it('201 completed and debited', async () => {
    const u = await newUser('wd');
    await fund(u, 1000);
    const tx = expectOk(await withdraw(u, { amount: 400, currency: 'USD' }), 201);
    expect(tx).toMatchObject({ type: 'withdrawal', status: 'completed', userId: u.id, amount: 400, currency: 'USD', metadata: {} });
    expect(await balanceOf(u.id)).toBe(600);
  });

  it('422 insufficient_funds stores nothing and moves nothing', async () => {
    const u = await newUser('wdi');
    await fund(u, 100);
    const before = await storedState([u.id]);
    expectError(await withdraw(u, { amount: 101, currency: 'USD' }), 422, 'insufficient_funds', 'amount');
    expectError(await withdraw(u, { amount: 1, currency: 'EUR' }), 422, 'insufficient_funds', 'amount');
    expect(await storedState([u.id])).toEqual(before);
  });

  it('lets the balance reach exactly zero', async () => {
    const u = await newUser('wdz');
    await fund(u, 100);
    expectOk(await withdraw(u, { amount: 100, currency: 'USD' }), 201);
    expect(await balanceOf(u.id)).toBe(0);
  });
});

describe('POST /transfers', () => {
  it('201 completed, moves the money, one transaction in both histories', async () => {
    const [a, b] = [await newUser('snd'), await newUser('rcv')];
    await fund(a, 1000);
    const tx = expectOk(await transfer(a, { toUserId: b.id, amount: 250, currency: 'USD' }), 201);
    expect(tx).toMatchObject({ type: 'transfer', status: 'completed', userId: a.id, toUserId: b.id, amount: 250 });
    expect(await balanceOf(a.id)).toBe(750);
    expect(await balanceOf(b.id)).toBe(250);
    const listA = expectOk(await call('listTransactions', { id: a.id, token: a.token }));
    const listB = expectOk(await call('listTransactions', { id: b.id, token: b.token }));
    expect(listA.data.map((t: { id: string }) => t.id)).toContain(tx.id);
    expect(listB.data.map((t: { id: string }) => t.id)).toEqual([tx.id]);
    expect(listB.data[0]).toEqual(tx);
  });

  it('422 same_account_transfer', async () => {
    const a = await newUser('self');
    await fund(a, 100);
    const before = await storedState([a.id]);
    expectError(await transfer(a, { toUserId: a.id, amount: 10, currency: 'USD' }), 422, 'same_account_transfer', 'toUserId');
    expect(await storedState([a.id])).toEqual(before);
  });

  it('422 balance_limit_exceeded when the recipient cannot hold the amount: nothing moves, and the key replays it', async () => {
    const [a, b] = [await newUser('tfa'), await newUser('tfb')];
    await fund(a, 100);
    await seedBalance(b.id, MAX_BALANCE - 10);
    const before = await storedState([a.id, b.id]);
    const key = `key-${randomUUID()}`;
    expectError(await transfer(a, { toUserId: b.id, amount: 11, currency: 'USD' }, { 'idempotency-key': key }), 422, 'balance_limit_exceeded', 'amount');
    const replay = await transfer(a, { toUserId: b.id, amount: 11, currency: 'USD' }, { 'idempotency-key': key });
    expectError(replay, 422, 'balance_limit_exceeded', 'amount');
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(await storedState([a.id, b.id])).toEqual(before);
  });

  it('404 param toUserId for an unknown recipient', async () => {
    const a = await newUser('tun');
    await fund(a, 100);
    const before = await storedState([a.id]);
    for (const toUserId of [`ghost-${randomUUID()}`, 'has spaces', 'x'.repeat(255)]) {
      expectError(await transfer(a, { toUserId, amount: 10, currency: 'USD' }), 404, 'not_found', 'toUserId');
    }
    expect(await storedState([a.id])).toEqual(before);
  });

  it('422 insufficient_funds, nothing moves on either side', async () => {
    const [a, b] = [await newUser('tpoor'), await newUser('trich')];
    await fund(a, 100);
    await fund(b, 100);
    const before = await storedState([a.id, b.id]);
    expectError(await transfer(a, { toUserId: b.id, amount: 101, currency: 'USD' }), 422, 'insufficient_funds', 'amount');
    expect(await storedState([a.id, b.id])).toEqual(before);
  });

  it('404 when the sender has no profile', async () => {
    const [a, b] = [await newUser('tnp', false), await newUser('tnpr')];
    expectError(await transfer(a, { toUserId: b.id, amount: 1, currency: 'USD' }), 404, 'not_found');
  });
});

describe('GET /transactions/{id}', () => {
  it('200 for both parties and an admin, 404 for anyone else', async () => {
    const [a, b, c] = [await newUser('ga'), await newUser('gb'), await newUser('gc')];
    await fund(a, 100);
    const tx = expectOk(await transfer(a, { toUserId: b.id, amount: 10, currency: 'USD' }), 201);
    expect(expectOk(await call('getTransaction', { id: tx.id, token: a.token }))).toEqual(tx);
    expect(expectOk(await call('getTransaction', { id: tx.id, token: b.token }))).toEqual(tx);
    expect(expectOk(await call('getTransaction', { id: tx.id, token: admin }))).toEqual(tx);
    const other = await call('getTransaction', { id: tx.id, token: c.token });
    const missing = await call('getTransaction', { id: randomUUID(), token: c.token });
    expectError(other, 404, 'not_found');
    expectError(missing, 404, 'not_found');
    // Someone else's transaction is indistinguishable from a missing one.
    expect(other.body.error.message).toBe(missing.body.error.message);
  });

  it.each(['not-a-uuid', '1', "' OR '1'='1", '../users', 'ZZZZZZZZ-ZZZZ-4ZZZ-8ZZZ-ZZZZZZZZZZZZ', '%00', 'a'.repeat(2000)]
    .map((id) => [id.length > 40 ? `${id.slice(0, 8)}… (${id.length} chars)` : id, id]))('404 for malformed id %j', async (_label, id) => {
    expectError(await call('getTransaction', { id, token: admin }), 404, 'not_found');
  });
});

describe('GET /users/{id}/transactions', () => {
  let u: TestUser;
  const ids: string[] = [];
  beforeAll(async () => {
    u = await newUser('list');
    ids.push((await fund(u, 1000)).id);
    for (let i = 0; i < 3; i++) ids.push(expectOk(await withdraw(u, { amount: 10 + i, currency: 'USD' }), 201).id);
    ids.push(expectOk(await deposit(u, { amount: 5, currency: 'USD', paymentToken: 'tok_pending' }), 201).id);
    ids.push(expectOk(await deposit(u, { amount: 6, currency: 'USD' }), 201).id);
  });

  it('pages newest first with limit and nextCursor until null, no repeats or gaps', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    for (;;) {
      const res = await call('listTransactions', { id: u.id, token: u.token, query: { limit: '4', ...(cursor && { cursor }) } });
      const page = expectOk(res);
      expect(Object.keys(page).sort()).toEqual(['data', 'nextCursor']);
      expect(page.data.length).toBeLessThanOrEqual(4);
      seen.push(...page.data.map((t: { id: string }) => t.id));
      pages++;
      if (page.nextCursor === null) break;
      expect(typeof page.nextCursor).toBe('string');
      cursor = page.nextCursor;
      expect(pages).toBeLessThan(10);
    }
    expect(pages).toBe(2);
    expect([...seen].sort()).toEqual([...ids].sort());
    // Newest first by (createdAt, id), as the contract orders (ids in one millisecond are not in insertion order).
    const all = expectOk(await call('listTransactions', { id: u.id, token: admin, query: { limit: '100' } })).data as Array<{ id: string; createdAt: string }>;
    const expected = [...all].sort((a, b) => (a.createdAt === b.createdAt ? (a.id < b.id ? 1 : -1) : a.createdAt < b.createdAt ? 1 : -1)).map((t) => t.id);
    expect(all.map((t) => t.id)).toEqual(expected);
    expect(seen).toEqual(expected);
  });

  it('defaults to 20 and returns everything here with nextCursor null', async () => {
    const page = expectOk(await call('listTransactions', { id: u.id, token: u.token }));
    expect(page.data).toHaveLength(ids.length);
    expect(page.nextCursor).toBeNull();
  });

  it('filters by type and status, also across pages', async () => {
    const w = expectOk(await call('listTransactions', { id: u.id, token: u.token, query: { type: 'withdrawal', limit: '2' } }));
    expect(w.data).toHaveLength(2);
    expect(w.data.every((t: { type: string }) => t.type === 'withdrawal')).toBe(true);
    const w2 = expectOk(await call('listTransactions', { id: u.id, token: u.token, query: { type: 'withdrawal', limit: '2', cursor: w.nextCursor } }));
    expect(w2.data).toHaveLength(1);
    expect(w2.data[0].type).toBe('withdrawal');
    expect(w2.nextCursor).toBeNull();
    const pending = expectOk(await call('listTransactions', { id: u.id, token: u.token, query: { status: 'pending' } }));
    expect(pending.data.map((t: { id: string }) => t.id)).toEqual([ids[4]]);
    const none = expectOk(await call('listTransactions', { id: u.id, token: u.token, query: { type: 'transfer' } }));
    expect(none).toEqual({ data: [], nextCursor: null });
  });

  it.each(['0', '101', 'abc', '-1', '1.5', ''])('400 param limit for limit=%j', async (limit) => {
    expectError(await call('listTransactions', { id: u.id, token: u.token, query: { limit } }), 400, 'invalid_request', 'limit');
  });

  it('400 param cursor for a tampered cursor or one issued for another listing', async () => {
    const page = expectOk(await call('listTransactions', { id: u.id, token: u.token, query: { limit: '1' } }));
    const cursor = page.nextCursor as string;
    const tampered = `${cursor.slice(0, 5)}${cursor[5] === 'A' ? 'B' : 'A'}${cursor.slice(6)}`;
    for (const bad of [tampered, 'garbage', `${cursor}x.y`]) {
      expectError(await call('listTransactions', { id: u.id, token: u.token, query: { cursor: bad } }), 400, 'invalid_request', 'cursor');
    }
    // The same cursor with another filter, or by an admin for another user, is refused.
    expectError(await call('listTransactions', { id: u.id, token: u.token, query: { cursor, type: 'deposit' } }), 400, 'invalid_request', 'cursor');
    const other = await newUser('lother');
    expectError(await call('listTransactions', { id: other.id, token: admin, query: { cursor } }), 400, 'invalid_request', 'cursor');
  });

  it('400 param cursor when its last character is changed or one is appended', async () => {
    const page = expectOk(await call('listTransactions', { id: u.id, token: u.token, query: { limit: '1' } }));
    const cursor = page.nextCursor as string;
    const lastSwapped = `${cursor.slice(0, -1)}${cursor.endsWith('A') ? 'B' : 'A'}`;
    for (const bad of [lastSwapped, `${cursor}=`, `${cursor}!`]) {
      expectError(await call('listTransactions', { id: u.id, token: u.token, query: { limit: '1', cursor: bad } }), 400, 'invalid_request', 'cursor');
    }
  });

  it('400 for an unknown query parameter or bad filter', async () => {
    expectError(await call('listTransactions', { id: u.id, token: u.token, query: { foo: 'bar' } }), 400, 'invalid_request', 'foo');
    expectError(await call('listTransactions', { id: u.id, token: u.token, query: { type: 'hold' } }), 400, 'invalid_request', 'type');
    expect(expectOk(await call('listTransactions', { id: u.id, token: u.token, query: { type: 'refund' } }))).toEqual({ data: [], nextCursor: null });
    expectError(await call('listTransactions', { id: u.id, token: u.token, query: { status: 'done' } }), 400, 'invalid_request', 'status');
  });

  it('admin may list, another user may not, an unknown user is 404', async () => {
    expect(expectOk(await call('listTransactions', { id: u.id, token: admin })).data).toHaveLength(ids.length);
    const other = await newUser('lo');
    expectError(await call('listTransactions', { id: u.id, token: other.token }), 403, 'forbidden');
    expectError(await call('listTransactions', { id: `ghost-${randomUUID()}`, token: admin }), 404, 'not_found');
  });
});

describe('PATCH /transactions/{id}', () => {
  const pendingDeposit = async (u: TestUser, amount = 700) =>
    expectOk(await deposit(u, { amount, currency: 'USD', paymentToken: 'tok_pending' }), 201);

  it('an admin completes a pending deposit: credited once; a second PATCH is 422', async () => {
    const u = await newUser('pc');
    const tx = await pendingDeposit(u);
    const done = expectOk(await call('updateTransaction', { id: tx.id, token: admin, body: { status: 'completed' } }));
    expect(done).toMatchObject({ id: tx.id, status: 'completed', amount: 700 });
    expect(await balanceOf(u.id)).toBe(700);
    expectError(await call('updateTransaction', { id: tx.id, token: admin, body: { status: 'completed' } }), 422, 'invalid_state_transition', 'status');
    expectError(await call('updateTransaction', { id: tx.id, token: admin, body: { status: 'failed' } }), 422, 'invalid_state_transition', 'status');
    expect(await balanceOf(u.id)).toBe(700);
  });

  it('an admin completing a deposit the balance can no longer hold fails it instead: 422 naming it, nothing credited, an ERROR logged', async () => {
    const u = await newUser('pfull');
    const tx = await pendingDeposit(u, 700);
    await seedBalance(u.id, MAX_BALANCE - 500);
    const errors = jest.spyOn(logger, 'error');
    try {
      const res = await call('updateTransaction', { id: tx.id, token: admin, body: { status: 'completed' } });
      expectError(res, 422, 'balance_limit_exceeded', 'amount');
      expect(res.body.error.message).toContain(tx.id);
      expect(errors).toHaveBeenCalledWith(expect.stringContaining('not credited'), expect.objectContaining({ depositId: tx.id, amount: 700 }));
    } finally {
      errors.mockRestore();
    }
    expect(expectOk(await call('getTransaction', { id: tx.id, token: admin })).status).toBe('failed');
    expect(await balanceOf(u.id)).toBe(MAX_BALANCE - 500);
    expectError(await call('updateTransaction', { id: tx.id, token: admin, body: { status: 'completed' } }), 422, 'invalid_state_transition', 'status');
  });

  it('an admin fails a pending deposit: nothing credited', async () => {
    const u = await newUser('pf');
    const tx = await pendingDeposit(u);
    expect(expectOk(await call('updateTransaction', { id: tx.id, token: admin, body: { status: 'failed' } })).status).toBe('failed');
    expect(await balanceOf(u.id)).toBe(0);
  });

  it("'pending' as the new status is 422 invalid_state_transition", async () => {
    const u = await newUser('pp');
    const tx = await pendingDeposit(u);
    expectError(await call('updateTransaction', { id: tx.id, token: admin, body: { status: 'pending' } }), 422, 'invalid_state_transition', 'status');
    expect((await history(u.id))[0]?.status).toBe('pending');
  });

  it('a non-admin, even the owner, is 403 and nothing changes', async () => {
    const u = await newUser('pna');
    const tx = await pendingDeposit(u);
    expectError(await call('updateTransaction', { id: tx.id, token: u.token, body: { status: 'completed' } }), 403, 'forbidden');
    expect(await balanceOf(u.id)).toBe(0);
    expect((await history(u.id))[0]?.status).toBe('pending');
  });

  it('an admin may replace metadata alone in any status', async () => {
    const u = await newUser('pm');
    const completed = await fund(u, 100);
    const failedRes = await deposit(u, { amount: 5, currency: 'USD', paymentToken: 'tok_declined' });
    const failedId = failedRes.body.error.transactionId as string;
    const pending = await pendingDeposit(u);
    for (const id of [completed.id, failedId, pending.id]) {
      const before = expectOk(await call('getTransaction', { id, token: admin }));
      const res = expectOk(await call('updateTransaction', { id, token: admin, body: { metadata: { note: 'checked' } } }));
      expect(res).toMatchObject({ id, status: before.status, metadata: { note: 'checked' }, amount: before.amount });
    }
    expect(await balanceOf(u.id)).toBe(100);
  });

  it('404 for an unknown or malformed id, 400 for an empty body', async () => {
    expectError(await call('updateTransaction', { id: randomUUID(), token: admin, body: { status: 'completed' } }), 404, 'not_found');
    expectError(await call('updateTransaction', { id: 'nope', token: admin, body: { status: 'completed' } }), 404, 'not_found');
    const u = await newUser('pe');
    const tx = await pendingDeposit(u);
    expectError(await call('updateTransaction', { id: tx.id, token: admin, body: {} }), 400, 'invalid_request');
    expectError(await call('updateTransaction', { id: tx.id, token: admin, body: { status: 'done' } }), 400, 'invalid_request', 'status');
  });
});

describe('idempotency', () => {
  const key = () => `key-${randomUUID()}`;

  it('same key and body: the first response again, replayed, nothing moves twice', async () => {
    const u = await newUser('idem');
    const k = key();
    const first = await deposit(u, { amount: 300, currency: 'USD' }, { 'idempotency-key': k });
    expectOk(first, 201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    // Same body with another key order is the same request.
    const again = await call('createDeposit', { id: u.id, token: u.token, body: '{"currency":"USD","amount":300}', headers: { 'Idempotency-Key': k } });
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(await balanceOf(u.id)).toBe(300);
    expect(await history(u.id)).toHaveLength(1);
  });

  it('replays withdrawals and transfers without a second movement', async () => {
    const [a, b] = [await newUser('iw'), await newUser('it')];
    await fund(a, 1000);
    const kw = key();
    const w1 = await withdraw(a, { amount: 100, currency: 'USD' }, { 'idempotency-key': kw });
    const w2 = await withdraw(a, { amount: 100, currency: 'USD' }, { 'idempotency-key': kw });
    expect([w1.status, w2.status]).toEqual([201, 201]);
    expect(w2.body).toEqual(w1.body);
    expect(w2.headers['idempotent-replayed']).toBe('true');
    const kt = key();
    const t1 = await transfer(a, { toUserId: b.id, amount: 100, currency: 'USD' }, { 'idempotency-key': kt });
    const t2 = await transfer(a, { toUserId: b.id, amount: 100, currency: 'USD' }, { 'idempotency-key': kt });
    expect([t1.status, t2.status]).toEqual([201, 201]);
    expect(t2.body).toEqual(t1.body);
    expect(t2.headers['idempotent-replayed']).toBe('true');
    expect(await balanceOf(a.id)).toBe(800);
    expect(await balanceOf(b.id)).toBe(100);
  });

  it('same key, different body or route: 422 idempotency_key_reused, no effect', async () => {
    const u = await newUser('reuse');
    await fund(u, 1000);
    const k = key();
    expectOk(await withdraw(u, { amount: 100, currency: 'USD' }, { 'idempotency-key': k }), 201);
    const before = await storedState([u.id]);
    expectError(await withdraw(u, { amount: 101, currency: 'USD' }, { 'idempotency-key': k }), 422, 'idempotency_key_reused', 'Idempotency-Key');
    expectError(await withdraw(u, { amount: 100, currency: 'USD', metadata: { a: 'b' } }, { 'idempotency-key': k }), 422, 'idempotency_key_reused', 'Idempotency-Key');
    expectError(await deposit(u, { amount: 100, currency: 'USD' }, { 'idempotency-key': k }), 422, 'idempotency_key_reused', 'Idempotency-Key');
    expect(await storedState([u.id])).toEqual(before);
  });

  it('a 4xx first outcome is replayed as that 4xx even after the balance became sufficient', async () => {
    const u = await newUser('i4');
    const k = key();
    const first = await withdraw(u, { amount: 500, currency: 'USD' }, { 'idempotency-key': k });
    expectError(first, 422, 'insufficient_funds', 'amount');
    await fund(u, 1000);
    const again = await withdraw(u, { amount: 500, currency: 'USD' }, { 'idempotency-key': k });
    expectError(again, 422, 'insufficient_funds', 'amount');
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body.error.message).toBe(first.body.error.message);
    expect(await balanceOf(u.id)).toBe(1000);
    expect(await history(u.id)).toHaveLength(1);
  });

  it('a declined deposit is replayed as the same 402 naming the same transaction', async () => {
    const u = await newUser('i402');
    const k = key();
    const first = await deposit(u, { amount: 100, currency: 'USD', paymentToken: 'tok_declined' }, { 'idempotency-key': k });
    const again = await deposit(u, { amount: 100, currency: 'USD', paymentToken: 'tok_declined' }, { 'idempotency-key': k });
    expectError(first, 402, 'payment_failed', first.body?.error?.param);
    expectError(again, 402, 'payment_failed', first.body?.error?.param);
    expect(again.body.error.transactionId).toBe(first.body.error.transactionId);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(await history(u.id)).toHaveLength(1);
  });

  it('the same key sent twice at once moves money once: the other gets 409 idempotency_key_in_use or the replay', async () => {
    const u = await newUser('iconc');
    await fund(u, 1000);
    const k = key();
    const results = await Promise.all([1, 2, 3].map(() => withdraw(u, { amount: 100, currency: 'USD' }, { 'idempotency-key': k })));
    const created = results.filter((r) => r.status === 201);
    expect(created.length).toBeGreaterThanOrEqual(1);
    for (const r of results) {
      if (r.status === 201) expect(r.body).toEqual(created[0]?.body);
      else expectError(r, 409, 'idempotency_key_in_use', 'Idempotency-Key');
    }
    expect(await balanceOf(u.id)).toBe(900);
    expect((await history(u.id)).filter((t) => t.amount === 100)).toHaveLength(1);
  });

  it('keys are scoped to the caller', async () => {
    const [a, b] = [await newUser('sa'), await newUser('sb')];
    const k = key();
    const ra = await deposit(a, { amount: 100, currency: 'USD' }, { 'idempotency-key': k });
    const rb = await deposit(b, { amount: 100, currency: 'USD' }, { 'idempotency-key': k });
    expect([ra.status, rb.status]).toEqual([201, 201]);
    expect(rb.headers['idempotent-replayed']).toBeUndefined();
    expect(rb.body.id).not.toBe(ra.body.id);
    expect(await balanceOf(b.id)).toBe(100);
  });

  it.each([
    ['256 characters', 'k'.repeat(256)],
    ['non-ASCII', 'clé-ünïcode'],
    ['a control character', 'abc\u0001def'],
    ['empty', ''],
  ])('400 param Idempotency-Key for a key with %s, no effect', async (_label, k) => {
    const u = await newUser('ibad');
    await fund(u, 100);
    const before = await storedState([u.id]);
    expectError(await withdraw(u, { amount: 10, currency: 'USD' }, { 'idempotency-key': k }), 400, 'invalid_request', 'Idempotency-Key');
    expectError(await deposit(u, { amount: 10, currency: 'USD' }, { 'idempotency-key': k }), 400, 'invalid_request', 'Idempotency-Key');
    expect(await storedState([u.id])).toEqual(before);
  });

  it('accepts a 255-character printable key', async () => {
    const u = await newUser('i255');
    const k = `${'~ '.repeat(127)}!`;
    expect(k).toHaveLength(255);
    expectOk(await deposit(u, { amount: 10, currency: 'USD' }, { 'idempotency-key': k }), 201);
    expect((await deposit(u, { amount: 10, currency: 'USD' }, { 'idempotency-key': k })).headers['idempotent-replayed']).toBe('true');
  });
});

describe('health, openapi and unknown routes', () => {
  it('GET /health is 200 {"status":"ok"} without a token', async () => {
    const res = await call('health');
    expect(expectOk(res)).toEqual({ status: 'ok' });
  });

  it('GET /health is 503 {"status":"unavailable"} when storage is down', async () => {
    const { storage } = await app();
    const spy = jest.spyOn(storage.health, 'ping').mockRejectedValueOnce(new Error('ECONNREFUSED 10.0.0.5:5432'));
    try {
      const res = await call('health');
      expect(res.status).toBe(503);
      expectCommonHeaders(res);
      expect(res.body).toEqual({ status: 'unavailable' });
    } finally {
      spy.mockRestore();
    }
  });

  it('storage unavailable during a withdrawal is 503 service_unavailable with Retry-After, and a retry with the key runs again', async () => {
    const u = await newUser('s503');
    await fund(u, 100);
    const { storage } = await app();
    const spy = jest.spyOn(storage.ledger, 'withdraw').mockRejectedValueOnce(new ServiceUnavailable());
    const k = `key-${randomUUID()}`;
    try {
      const res = await withdraw(u, { amount: 40, currency: 'USD' }, { 'idempotency-key': k });
      expectError(res, 503, 'service_unavailable');
      expect(res.headers['retry-after']).toMatch(/^\d+$/);
    } finally {
      spy.mockRestore();
    }
    const retry = await withdraw(u, { amount: 40, currency: 'USD' }, { 'idempotency-key': k });
    expectOk(retry, 201);
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
    expect(await balanceOf(u.id)).toBe(60);
  });

  it('an unexpected error is 500 internal_error without its message', async () => {
    const u = await newUser('s500');
    const { storage } = await app();
    const spy = jest.spyOn(storage.ledger, 'getBalances').mockRejectedValueOnce(new Error('relation "balances" does not exist at db.internal:5432'));
    try {
      const res = await call('getUser', { id: u.id, token: u.token });
      expectError(res, 500, 'internal_error');
      expect(res.raw).not.toMatch(/relation|db\.internal|5432|at /);
    } finally {
      spy.mockRestore();
    }
  });

  it('GET /openapi.json is an OpenAPI 3.1.0 document with every contract path', async () => {
    const doc = expectOk(await call('openapi'));
    expect(doc.openapi).toBe('3.1.0');
    const paths = {
      '/health': ['get'], '/openapi.json': ['get'], '/users': ['post'], '/users/{id}': ['get'],
      '/users/{id}/deposits': ['post'], '/users/{id}/withdrawals': ['post'], '/transfers': ['post'],
      '/transactions/{id}': ['get', 'patch'], '/users/{id}/transactions': ['get'],
      '/users/{id}/holds': ['get', 'post'], '/holds/{id}': ['get'], '/holds/{id}/capture': ['post'], '/holds/{id}/void': ['post'],
      '/transactions/{id}/refunds': ['post'],
    };
    for (const [path, methods] of Object.entries(paths)) {
      expect(doc.paths).toHaveProperty([path]);
      for (const m of methods) expect(doc.paths[path]).toHaveProperty([m]);
    }
  });

  it.each([
    ['GET', '/nope'],
    ['DELETE', '/users/abc'],
    ['PUT', '/transfers'],
    ['GET', '/'],
    ['POST', '/users/abc/deposits/extra'],
  ] as const)('%s %s is 404 not_found in the error shape', async (method, path) => {
    expectError(await callUnmatched(method, path), 404, 'not_found');
    expectError(await callUnmatched(method, path, { token: admin, body: { a: 1 } }), 404, 'not_found');
  });
});

describe('request bodies', () => {
  const sixteenKiB = 16 * 1024;
  /** A deposit body of exactly `bytes` bytes. */
  const bodyOfSize = (bytes: number): string => {
    const head = '{"amount":100,"currency":"USD","metadata":{"pad":"';
    const tail = '"}}';
    return `${head}${'x'.repeat(bytes - head.length - tail.length)}${tail}`;
  };

  it('413 payload_too_large over 16 KiB, nothing stored', async () => {
    const u = await newUser('big');
    const body = bodyOfSize(sixteenKiB + 1);
    expect(Buffer.byteLength(body)).toBe(sixteenKiB + 1);
    expectError(await call('createDeposit', { id: u.id, token: u.token, body }), 413, 'payload_too_large');
    // Multi-byte characters count as bytes.
    const utf8 = `{"amount":100,"currency":"USD","metadata":{"p":"${'é'.repeat(8200)}"}}`;
    expectError(await call('createDeposit', { id: u.id, token: u.token, body: utf8 }), 413, 'payload_too_large');
    // Exactly 16 KiB is not too large (it fails validation instead).
    expect((await call('createDeposit', { id: u.id, token: u.token, body: bodyOfSize(sixteenKiB) })).status).toBe(400);
    expect(await history(u.id)).toEqual([]);
  });

  it('415 unsupported_media_type for text/plain (and no content type)', async () => {
    const u = await newUser('txt');
    const body = JSON.stringify({ amount: 100, currency: 'USD' });
    expectError(await call('createDeposit', { id: u.id, token: u.token, body, contentType: 'text/plain' }), 415, 'unsupported_media_type', 'Content-Type');
    expectError(await call('createDeposit', { id: u.id, token: u.token, body, contentType: 'application/x-www-form-urlencoded' }), 415, 'unsupported_media_type', 'Content-Type');
    expectError(await call('createDeposit', { id: u.id, token: u.token, body, contentType: null }), 415, 'unsupported_media_type', 'Content-Type');
    expect(await history(u.id)).toEqual([]);
  });

  it.each([
    ['malformed JSON', '{"amount": 100,'],
    ['a JSON array', '[{"amount":100,"currency":"USD"}]'],
    ['a JSON number', '5'],
    ['JSON null', 'null'],
    ['a JSON string', '"hello"'],
    ['JSON true', 'true'],
    ['an empty body', ''],
    ['whitespace', '   '],
    ['two JSON objects', '{"amount":100,"currency":"USD"}{"amount":100,"currency":"USD"}'],
  ])('400 invalid_request for %s', async (_label, body) => {
    const u = await newUser('bad');
    expectError(await call('createDeposit', { id: u.id, token: u.token, body }), 400, 'invalid_request');
    expect(await history(u.id)).toEqual([]);
  });

  it('400 for a missing body on a route that needs one', async () => {
    const u = await newUser('nobody');
    expectError(await call('createWithdrawal', { id: u.id, token: u.token }), 400, 'invalid_request');
    expectError(await call('createUser', { token: (await newUser('nb2', false)).token }), 400, 'invalid_request');
  });

  it('accepts a base64-encoded body and JSON content types with parameters', async () => {
    const u = await newUser('b64');
    expectOk(await call('createDeposit', { id: u.id, token: u.token, body: { amount: 1, currency: 'USD' }, base64: true }), 201);
    expectOk(await call('createDeposit', { id: u.id, token: u.token, body: { amount: 2, currency: 'USD' }, contentType: 'application/json; charset=utf-8' }), 201);
    expect(await balanceOf(u.id)).toBe(3);
  });

  it('treats the media type case-insensitively (RFC 9110): Application/JSON is JSON', async () => {
    const u = await newUser('case');
    const res = await call('createDeposit', { id: u.id, token: u.token, body: { amount: 3, currency: 'USD' }, contentType: 'Application/JSON' });
    expectOk(res, 201);
    expect(await balanceOf(u.id)).toBe(3);
  });
});

describe('every response', () => {
  it('carries x-request-id = the Lambda request id and application/json, success or error', async () => {
    const u = await newUser('hdr');
    const responses = [
      await call('health'), await call('openapi'), await call('getUser', { id: u.id, token: u.token }),
      await call('getUser', { id: u.id }), await call('getTransaction', { id: 'x', token: u.token }),
      await callUnmatched('GET', '/x'), await deposit(u, { amount: 1, currency: 'USD' }),
    ];
    for (const res of responses) expectCommonHeaders(res);
    expect(new Set(responses.map((r) => r.headers['x-request-id'])).size).toBe(responses.length);
  });
});

describe('502 payment_gateway_error (HTTP gateway adapter against the local sandbox)', () => {
  const apiKey = 'sk_test_handlers_0001';
  let sandbox: Awaited<ReturnType<typeof startSandboxGateway>>;
  beforeAll(async () => {
    sandbox = await startSandboxGateway({ apiKey });
    Object.assign(process.env, { PAYMENT_API_URL: sandbox.url, PAYMENT_API_KEY: apiKey, PAYMENT_MAX_RETRIES: '0' });
  });
  afterAll(async () => {
    for (const k of ['PAYMENT_API_URL', 'PAYMENT_API_KEY', 'PAYMENT_MAX_RETRIES']) delete process.env[k];
    await sandbox.close();
  });

  it('answers 502; the deposit stays pending and a retry with the same key finishes it once', async () => {
    const u = await newUser('gw');
    const k = `key-${randomUUID()}`;
    sandbox.setFault({ kind: 'status', status: 500, times: 5 });
    const res = await deposit(u, { amount: 100, currency: 'USD' }, { 'idempotency-key': k });
    sandbox.setFault();
    expect([res.status, res.body.error.code]).toEqual([502, 'payment_gateway_error']);
    expect(res.raw).not.toContain(sandbox.url);
    expect(await balanceOf(u.id)).toBe(0);
    const pending = await history(u.id);
    expect(pending.map((t) => t.status)).toEqual(['pending']);
    const retry = await deposit(u, { amount: 100, currency: 'USD' }, { 'idempotency-key': k });
    expect(expectOk(retry, 201)).toMatchObject({ id: pending[0]?.id, status: 'completed' });
    expect(await balanceOf(u.id)).toBe(100);
    expect(await history(u.id)).toHaveLength(1);
  });

  it('the 502 body is the contract error shape and names the pending deposit in transactionId', async () => {
    const u = await newUser('gws');
    sandbox.setFault({ kind: 'status', status: 503, times: 5 });
    const res = await deposit(u, { amount: 100, currency: 'USD' });
    sandbox.setFault();
    expectError(res, 502, 'payment_gateway_error');
    const pending = await history(u.id);
    expect(pending.map((t) => [t.id, t.status])).toEqual([[res.body.error.transactionId, 'pending']]);
    expect(res.body.error.message).toContain(res.body.error.transactionId);
  });
});
