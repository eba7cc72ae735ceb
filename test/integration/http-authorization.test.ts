// OWASP API1 (object level) and API3 (property level, mass assignment): every route
// for every kind of caller, with balances and histories checked after each denial.
import '../support/memory-http-env';

import { randomUUID } from 'node:crypto';
import { resetApp } from '../../src/composition-root';
import {
  call, expectError, expectOk, fund, newUser, ROUTE_NAMES, storedState, type CallInit, type HttpResponse, type RouteName, type TestUser,
} from '../support/invoke';
import { adminToken, hs256, userToken } from '../support/tokens';

afterAll(() => resetApp());

type CallerKind = 'owner' | 'other' | 'admin' | 'anonymous';
const CALLERS: CallerKind[] = ['owner', 'other', 'admin', 'anonymous'];

interface World {
  owner: TestUser;
  other: TestUser;
  adminId: string;
  adminToken: string;
  /** A completed deposit of the owner. */
  ownerTx: string;
}

const makeWorld = async (): Promise<World> => {
  const owner = await newUser('owner');
  const other = await newUser('other');
  await fund(owner, 1000);
  await fund(other, 1000);
  const ownerTx = (await fund(owner, 1)).id as string;
  const adminId = `admin-${randomUUID()}`;
  return { owner, other, adminId, adminToken: await adminToken(adminId), ownerTx };
};

const tokenFor = (w: World, who: CallerKind): string | undefined =>
  who === 'owner' ? w.owner.token : who === 'other' ? w.other.token : who === 'admin' ? w.adminToken : undefined;

const pendingDepositOf = async (u: TestUser): Promise<string> =>
  expectOk(await call('createDeposit', { id: u.id, token: u.token, body: { amount: 50, currency: 'USD', paymentToken: 'tok_pending' } }), 201).id;
/** A hold the owner pays, to `payee` when given. */
const holdOf = async (w: World, payee?: TestUser): Promise<string> =>
  expectOk(await call('createHold', {
    id: w.owner.id, token: w.owner.token, body: { amount: 20, currency: 'USD', ...(payee && { toUserId: payee.id }) },
  }), 201).id;
/** A transfer from the owner (the sender) to the other user (the payee). */
const transferToOther = async (w: World): Promise<string> =>
  expectOk(await call('createTransfer', { token: w.owner.token, body: { toUserId: w.other.id, amount: 30, currency: 'USD' } }), 201).id;
const withdrawalOf = async (u: TestUser): Promise<string> =>
  expectOk(await call('createWithdrawal', { id: u.id, token: u.token, body: { amount: 30, currency: 'USD' } }), 201).id;

interface Case {
  route: RouteName;
  /** The request, aimed at the owner's resources. */
  request: (w: World) => Promise<CallInit> | CallInit;
  expected: Record<CallerKind, number>;
}

/** The contract's "who" column, with the owner's resources as the target. */
const MATRIX: Case[] = [
  { route: 'health', request: () => ({}), expected: { owner: 200, other: 200, admin: 200, anonymous: 200 } },
  { route: 'openapi', request: () => ({}), expected: { owner: 200, other: 200, admin: 200, anonymous: 200 } },
  {
    // owner and other already have a profile; the admin's sub does not yet.
    route: 'createUser', request: () => ({ body: { email: 'new@example.com', name: 'New' } }),
    expected: { owner: 409, other: 409, admin: 201, anonymous: 401 },
  },
  { route: 'getUser', request: (w) => ({ id: w.owner.id }), expected: { owner: 200, other: 403, admin: 200, anonymous: 401 } },
  {
    route: 'createDeposit', request: (w) => ({ id: w.owner.id, body: { amount: 10, currency: 'USD' } }),
    expected: { owner: 201, other: 403, admin: 403, anonymous: 401 },
  },
  {
    route: 'createWithdrawal', request: (w) => ({ id: w.owner.id, body: { amount: 10, currency: 'USD' } }),
    expected: { owner: 201, other: 403, admin: 403, anonymous: 401 },
  },
  {
    // The sender is always the caller: the other user can only pay the owner; the admin has no profile.
    route: 'createTransfer', request: (w) => ({ body: { toUserId: w.owner.id, amount: 10, currency: 'USD' } }),
    expected: { owner: 422, other: 201, admin: 404, anonymous: 401 },
  },
  { route: 'getTransaction', request: (w) => ({ id: w.ownerTx }), expected: { owner: 200, other: 404, admin: 200, anonymous: 401 } },
  {
    route: 'updateTransaction', request: async (w) => ({ id: await pendingDepositOf(w.owner), body: { status: 'completed' } }),
    expected: { owner: 403, other: 403, admin: 200, anonymous: 401 },
  },
  {
    route: 'updateTransaction', request: (w) => ({ id: w.ownerTx, body: { metadata: { hacked: 'yes' } } }),
    expected: { owner: 403, other: 403, admin: 200, anonymous: 401 },
  },
  { route: 'listTransactions', request: (w) => ({ id: w.owner.id }), expected: { owner: 200, other: 403, admin: 200, anonymous: 401 } },
  {
    route: 'listTransactions', request: (w) => ({ id: w.owner.id, query: { limit: '1', type: 'deposit' } }),
    expected: { owner: 200, other: 403, admin: 200, anonymous: 401 },
  },
  {
    route: 'createHold', request: (w) => ({ id: w.owner.id, body: { amount: 10, currency: 'USD' } }),
    expected: { owner: 201, other: 403, admin: 403, anonymous: 401 },
  },
  { route: 'getHold', request: async (w) => ({ id: await holdOf(w) }), expected: { owner: 200, other: 404, admin: 200, anonymous: 401 } },
  // The payee of a hold sees it too.
  { route: 'getHold', request: async (w) => ({ id: await holdOf(w, w.other) }), expected: { owner: 200, other: 200, admin: 200, anonymous: 401 } },
  { route: 'listHolds', request: (w) => ({ id: w.owner.id }), expected: { owner: 200, other: 403, admin: 200, anonymous: 401 } },
  {
    route: 'listHolds', request: (w) => ({ id: w.owner.id, query: { limit: '1', status: 'held' } }),
    expected: { owner: 200, other: 403, admin: 200, anonymous: 401 },
  },
  // Without a payee the payer settles their hold; with one, only the payee (and admins).
  { route: 'captureHold', request: async (w) => ({ id: await holdOf(w), body: {} }), expected: { owner: 201, other: 404, admin: 201, anonymous: 401 } },
  {
    route: 'captureHold', request: async (w) => ({ id: await holdOf(w, w.other), body: { amount: 5 } }),
    expected: { owner: 403, other: 201, admin: 201, anonymous: 401 },
  },
  { route: 'voidHold', request: async (w) => ({ id: await holdOf(w) }), expected: { owner: 200, other: 404, admin: 200, anonymous: 401 } },
  { route: 'voidHold', request: async (w) => ({ id: await holdOf(w, w.other), body: {} }), expected: { owner: 403, other: 200, admin: 200, anonymous: 401 } },
  // A transfer's payee may refund it; its sender sees it but may not.
  {
    route: 'createRefund', request: async (w) => ({ id: await transferToOther(w), body: { amount: 10 } }),
    expected: { owner: 403, other: 201, admin: 201, anonymous: 401 },
  },
  { route: 'createRefund', request: async (w) => ({ id: await withdrawalOf(w.owner), body: {} }), expected: { owner: 403, other: 404, admin: 201, anonymous: 401 } },
  { route: 'createRefund', request: (w) => ({ id: w.ownerTx, body: {} }), expected: { owner: 403, other: 404, admin: 201, anonymous: 401 } },
];

const CODES: Record<number, string> = { 401: 'unauthenticated', 403: 'forbidden', 404: 'not_found', 409: 'user_exists', 422: 'same_account_transfer' };

describe('authorization matrix: route × caller', () => {
  it('covers every route taking a bearer token', () => {
    // The payment webhook is authenticated by its signature, not a caller: its own suite.
    const elsewhere = new Set<string>(['paymentWebhook']);
    expect(ROUTE_NAMES.filter((r) => !elsewhere.has(r) && !MATRIX.some((c) => c.route === r))).toEqual([]);
  });

  const cases = MATRIX.flatMap((c, i) => CALLERS.map((who) => [`${c.route}#${i}`, who, c.expected[who], c] as const));

  it.each(cases)('%s as %s → %i', async (_name, who, status, c) => {
    const w = await makeWorld();
    const init = await c.request(w);
    const token = tokenFor(w, who);
    const before = await storedState([w.owner.id, w.other.id]);
    const res = await call(c.route, { ...init, ...(token && { token }) });

    if (status >= 400) {
      expectError(res, status, CODES[status] ?? '', res.body?.error?.param);
      // A denied call changes nothing for anyone.
      expect(await storedState([w.owner.id, w.other.id])).toEqual(before);
    } else {
      expect(res.status).toBe(status);
    }
    if (status === 403 || status === 401) expect(JSON.stringify(res.body)).not.toContain('"balances"');
  });

  it('a denied read of another user\'s holds reveals none of them', async () => {
    const w = await makeWorld();
    const hold = await holdOf(w);
    for (const res of [
      await call('listHolds', { id: w.owner.id, token: w.other.token }),
      await call('getHold', { id: hold, token: w.other.token }),
      await call('captureHold', { id: hold, token: w.other.token, body: {} }),
      await call('voidHold', { id: hold, token: w.other.token }),
    ]) {
      expect(res.status).toBeGreaterThanOrEqual(403);
      expect(res.raw).not.toContain(hold);
      expect(res.raw).not.toContain(w.owner.id);
    }
  });

  it('a denied read of another user reveals neither balances nor transactions', async () => {
    const w = await makeWorld();
    for (const res of [
      await call('getUser', { id: w.owner.id, token: w.other.token }),
      await call('listTransactions', { id: w.owner.id, token: w.other.token }),
      await call('getTransaction', { id: w.ownerTx, token: w.other.token }),
    ]) {
      expect(res.raw).not.toContain(w.ownerTx);
      expect(res.raw).not.toContain('1001');
      expect(res.raw).not.toContain('owner@example.com');
    }
  });

  it("a cursor from the owner's listing does not open it for another user", async () => {
    const w = await makeWorld();
    const page = expectOk(await call('listTransactions', { id: w.owner.id, token: w.owner.token, query: { limit: '1' } }));
    expect(page.nextCursor).toEqual(expect.any(String));
    expectError(await call('listTransactions', { id: w.owner.id, token: w.other.token, query: { cursor: page.nextCursor } }), 403, 'forbidden');
    // Nor does it page through the other user's own history.
    expectError(await call('listTransactions', { id: w.other.id, token: w.other.token, query: { cursor: page.nextCursor } }), 400, 'invalid_request', 'cursor');
  });

  it('the other party of a transfer sees it; a third user does not', async () => {
    const w = await makeWorld();
    const tx = expectOk(await call('createTransfer', { token: w.owner.token, body: { toUserId: w.other.id, amount: 5, currency: 'USD' } }), 201);
    expectOk(await call('getTransaction', { id: tx.id, token: w.other.token }));
    const third = await newUser('third');
    expectError(await call('getTransaction', { id: tx.id, token: third.token }), 404, 'not_found');
  });

  it.each([
    ['scope "superadmin"', { scope: 'superadmin' }],
    ['scope "admin:read"', { scope: 'admin:read' }],
    ['scope "Admin"', { scope: 'Admin' }],
    ['scope ["admin"] (not a space-separated string)', { claims: { scope: ['admin'] } }],
    ['an isAdmin claim', { claims: { isAdmin: true, admin: true, role: 'admin', roles: ['admin'] } }],
    ['an admin scope in "scp"', { claims: { scp: 'admin' } }],
  ])('%s does not make an admin', async (_label, opts) => {
    const w = await makeWorld();
    const token = await hs256({ sub: `nota-${randomUUID()}`, ...opts });
    expectError(await call('getUser', { id: w.owner.id, token }), 403, 'forbidden');
    expectError(await call('getTransaction', { id: w.ownerTx, token }), 404, 'not_found');
    const pending = await pendingDepositOf(w.owner);
    const before = await storedState([w.owner.id]);
    expectError(await call('updateTransaction', { id: pending, token, body: { status: 'completed' } }), 403, 'forbidden');
    expect(await storedState([w.owner.id])).toEqual(before);
  });

  it('"read admin" (admin among other scopes) is an admin', async () => {
    const w = await makeWorld();
    const token = await hs256({ sub: `adm-${randomUUID()}`, scope: 'read admin write' });
    expectOk(await call('getUser', { id: w.owner.id, token }));
  });

  it('path ids that only look like the caller are someone else', async () => {
    const w = await makeWorld();
    for (const id of [w.owner.id.toUpperCase(), `${w.owner.id}/`, encodeURIComponent(w.owner.id + '#')]) {
      const res = await call('createWithdrawal', { id, token: w.owner.token, body: { amount: 1, currency: 'USD' } });
      expectError(res, 403, 'forbidden');
    }
    // A space cannot be in any id: a malformed path id is 404, as the contract says.
    expectError(await call('createWithdrawal', { id: ` ${w.owner.id}`, token: w.owner.token, body: { amount: 1, currency: 'USD' } }), 404, 'not_found');
    expect((await storedState([w.owner.id])).balances[w.owner.id]).toEqual([{ currency: 'USD', available: 1001, held: 0 }]);
  });
});

describe('mass assignment: unknown body fields are 400 naming the field', () => {
  const FIELDS: Array<[string, unknown]> = [
    ['userId', 'victim'], ['status', 'completed'], ['balance', 1_000_000], ['id', '3f2504e0-4f89-41d3-9a0c-0305e82c3301'],
    ['fromUserId', 'victim'], ['createdAt', '2000-01-01T00:00:00.000Z'], ['isAdmin', true], ['scope', 'admin'], ['balances', [{ currency: 'USD', available: 1 }]],
  ];

  type BodyCase = [string, (w: World) => Promise<[RouteName, CallInit]>];
  const ROUTE_BODIES: BodyCase[] = [
    ['POST /users', async () => ['createUser', { body: { email: 'm@example.com', name: 'M' } }]],
    ['POST /users/{id}/deposits', async (w) => ['createDeposit', { id: w.owner.id, body: { amount: 10, currency: 'USD' } }]],
    ['POST /users/{id}/withdrawals', async (w) => ['createWithdrawal', { id: w.owner.id, body: { amount: 10, currency: 'USD' } }]],
    ['POST /transfers', async (w) => ['createTransfer', { body: { toUserId: w.other.id, amount: 10, currency: 'USD' } }]],
    ['POST /users/{id}/holds', async (w) => ['createHold', { id: w.owner.id, body: { amount: 10, currency: 'USD' } }]],
    ['POST /holds/{id}/capture', async (w) => ['captureHold', { id: await holdOf(w), body: { amount: 5 } }]],
    ['POST /holds/{id}/void', async (w) => ['voidHold', { id: await holdOf(w), body: {} }]],
    // The owner is the payee of this transfer, so may refund it.
    ['POST /transactions/{id}/refunds', async (w) => ['createRefund', {
      id: expectOk(await call('createTransfer', { token: w.other.token, body: { toUserId: w.owner.id, amount: 30, currency: 'USD' } }), 201).id, body: { amount: 5 },
    }]],
  ];
  const cases = ROUTE_BODIES.flatMap(([name, make]) => FIELDS.map(([field, value]) => [name, field, value, make] as const));

  it.each(cases)('%s with %s', async (name, field, value, make) => {
    const w = await makeWorld();
    const [route, init] = await make(w);
    // POST /users is sent by a caller without a profile (else it is 409 anyway).
    const fresh = `fresh-${randomUUID()}`;
    const token = route === 'createUser' ? await userToken(fresh) : w.owner.token;
    const before = await storedState([w.owner.id, w.other.id, fresh]);
    const body = { ...(init.body as Record<string, unknown>), [field]: value };
    const res = await call(route, { ...init, token, body });
    expectError(res, 400, 'invalid_request', field);
    expect(await storedState([w.owner.id, w.other.id, fresh])).toEqual(before);
    if (route === 'createUser') expectError(await call('getUser', { id: fresh, token }), 404, 'not_found');
    expect(name).toBeTruthy();
  });

  it.each([['userId'], ['balance'], ['id'], ['amount'], ['type'], ['toUserId'], ['currency'], ['createdAt']])('PATCH /transactions/{id} with %s', async (field) => {
    const w = await makeWorld();
    const pending = await pendingDepositOf(w.owner);
    const before = await storedState([w.owner.id, w.other.id]);
    const res = await call('updateTransaction', { id: pending, token: w.adminToken, body: { status: 'completed', [field]: field === 'amount' ? 999_999 : w.other.id } });
    expectError(res, 400, 'invalid_request', field);
    expect(await storedState([w.owner.id, w.other.id])).toEqual(before);
  });

  it('a __proto__ key in a body is refused and grants nothing', async () => {
    const w = await makeWorld();
    const before = await storedState([w.owner.id]);
    const res = await call('createWithdrawal', {
      id: w.owner.id, token: w.owner.token,
      body: '{"amount":10,"currency":"USD","__proto__":{"isAdmin":true,"userId":"victim"}}',
    });
    expectError(res, 400, 'invalid_request', '__proto__');
    expect(await storedState([w.owner.id])).toEqual(before);
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
  });

  it('POST /users ignores nothing: an id in the body cannot pick the profile id', async () => {
    const victim = `victim-${randomUUID()}`;
    const attacker = await newUser('attacker', false);
    const res = await call('createUser', { token: attacker.token, body: { email: 'a@example.com', name: 'A', id: victim } });
    expectError(res, 400, 'invalid_request', 'id');
    expectError(await call('getUser', { id: victim, token: await adminToken() }), 404, 'not_found');
    // Without the field the profile is the token's sub.
    expect(expectOk(await call('createUser', { token: attacker.token, body: { email: 'a@example.com', name: 'A' } }), 201).id).toBe(attacker.id);
  });

  it('the deposit owner comes from the path and token, never from metadata', async () => {
    const w = await makeWorld();
    const tx = expectOk(await call('createDeposit', { id: w.owner.id, token: w.owner.token, body: { amount: 10, currency: 'USD', metadata: { userId: w.other.id } } }), 201);
    expect(tx.userId).toBe(w.owner.id);
    expect(tx.metadata).toEqual({ userId: w.other.id });
    const balances = (await storedState([w.other.id])).balances[w.other.id];
    expect(balances).toEqual([{ currency: 'USD', available: 1000, held: 0 }]);
  });
});

// Keeps the type import used when the file is read alone.
export type { HttpResponse };
