// OWASP API2 (broken authentication): every token an attacker or a broken client
// could send is 401 unauthenticated in the error shape, never a 5xx, under each
// way of configuring verification (HS256 secret, JWKS, both with issuer/audience).
//
// The scheme name is case-insensitive (RFC 7235 §2.1): `bearer` and `BEARER` work too.
// A token issued more than 60 s in the future (`iat`) is refused.
import '../support/memory-http-env';

import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { resetApp } from '../../src/composition-root';
import { apiGatewayEvent } from '../support/api-gateway-event';
import {
  call, expectError, expectOk, invokeHandler, newUser, ROUTE_NAMES, ROUTES, type CallInit, type HttpResponse, type RouteName, type TestUser,
} from '../support/invoke';
import {
  forgedToken, hs256, makeSigningKey, noneToken, oversizedHs256, rawHs256, startJwksServer, TEST_JWT_SECRET, validClaims,
  type JwksServer, type SigningKey,
} from '../support/tokens';

const ISSUER = 'https://issuer.test.example/';
const AUDIENCE = 'wallet-api';

let user: TestUser;
let rsa: SigningKey;
let ec: SigningKey;
let rogue: SigningKey;
let jwks: JwksServer;
let attackerJwks: JwksServer;

beforeAll(async () => {
  user = await newUser('authn');
  [rsa, ec, rogue] = await Promise.all([makeSigningKey('RS256'), makeSigningKey('ES256'), makeSigningKey('RS256')]);
  jwks = await startJwksServer([rsa.publicJwk, ec.publicJwk]);
  attackerJwks = await startJwksServer([rogue.publicJwk]);
});
afterAll(async () => {
  await resetApp();
  await jwks.close();
  await attackerJwks.close();
});

const configure = (env: { secret?: boolean; jwks?: boolean; issuer?: boolean }) => {
  if (env.secret) process.env.AUTH_JWT_SECRET = TEST_JWT_SECRET;
  else delete process.env.AUTH_JWT_SECRET;
  if (env.jwks) process.env.AUTH_JWKS_URL = jwks.url;
  else delete process.env.AUTH_JWKS_URL;
  // JWKS alone leaves no secret to derive the cursor key from.
  if (env.jwks && !env.secret) process.env.CURSOR_SECRET = 'test-cursor-secret-0123456789';
  else delete process.env.CURSOR_SECRET;
  if (env.issuer) {
    process.env.AUTH_ISSUER = ISSUER;
    process.env.AUTH_AUDIENCE = AUDIENCE;
  } else {
    delete process.env.AUTH_ISSUER;
    delete process.env.AUTH_AUDIENCE;
  }
};

/** GET /users/{id} of the test user with this Authorization header. */
const getMe = (authorization: string | undefined): Promise<HttpResponse> =>
  call('getUser', { id: user.id, headers: { authorization } });
const bearer = (token: string) => `Bearer ${token}`;

const expect401 = (res: HttpResponse): void => {
  expectError(res, 401, 'unauthenticated');
  expect(res.raw).not.toContain(user.id);
};

/** Open routes, and the payment webhook (authenticated by its signature, in its own suite). */
const NO_BEARER_TOKEN = new Set<string>(['health', 'openapi', 'paymentWebhook']);

/** Every route that needs a token answers 401 (not 400/404/500) for this header. */
const expect401Everywhere = async (authorization: string | undefined): Promise<void> => {
  const id = user.id;
  const tx = randomUUID();
  const requests: Array<[RouteName, CallInit]> = [
    ['createUser', { headers: { authorization }, body: { email: 'x@example.com', name: 'X' } }],
    ['getUser', { id, headers: { authorization } }],
    ['createDeposit', { id, headers: { authorization }, body: { amount: 1, currency: 'USD' } }],
    ['createWithdrawal', { id, headers: { authorization }, body: '{not json' }],
    ['createTransfer', { headers: { authorization }, body: { toUserId: 'x', amount: 1, currency: 'USD' } }],
    ['getTransaction', { id: tx, headers: { authorization } }],
    ['updateTransaction', { id: tx, headers: { authorization }, body: { status: 'completed' } }],
    ['listTransactions', { id, headers: { authorization }, query: { limit: 'abc' } }],
    ['createHold', { id, headers: { authorization }, body: { amount: 1, currency: 'USD' } }],
    ['getHold', { id: tx, headers: { authorization } }],
    ['listHolds', { id, headers: { authorization }, query: { status: 'nope' } }],
    ['captureHold', { id: tx, headers: { authorization }, body: '{not json' }],
    ['voidHold', { id: tx, headers: { authorization } }],
    ['createRefund', { id: tx, headers: { authorization }, body: { amount: 0 } }],
  ];
  // Every route that takes a bearer token is in the list.
  expect(ROUTE_NAMES.filter((r) => !NO_BEARER_TOKEN.has(r) && !requests.some(([route]) => route === r))).toEqual([]);
  for (const res of await Promise.all(requests.map(([route, init]) => call(route, init)))) expect401(res);
};

describe('HS256 only (AUTH_JWT_SECRET)', () => {
  beforeAll(() => configure({ secret: true }));

  it('accepts a valid token (control)', async () => {
    expect(expectOk(await getMe(bearer(user.token))).id).toBe(user.id);
  });

  it('answers 401 on every protected route without a token, before looking at the body or query', async () => {
    await expect401Everywhere(undefined);
    await expect401Everywhere('');
  });

  const cases: Array<[string, () => Promise<string> | string]> = [
    ['alg none', () => bearer(noneToken({ sub: user.id }))],
    ['alg None', () => bearer(forgedToken({ alg: 'None', typ: 'JWT' }, { sub: user.id }).replace(/\.[^.]*$/, '.'))],
    ['alg none with a signature', () => bearer(forgedToken({ alg: 'none' }, { sub: user.id }))],
    ['HS256 signed with a wrong secret', async () => bearer(await hs256({ sub: user.id }, 'a-different-secret-of-enough-length-000'))],
    ['HS256 signed with the secret as base64', async () => bearer(await hs256({ sub: user.id }, Buffer.from(TEST_JWT_SECRET).toString('base64')))],
    ['HS256 signed with an empty-ish secret', async () => bearer(await hs256({ sub: user.id }, new Uint8Array(32)))],
    ['HS384 (not an accepted algorithm) with the right secret', () => bearer(forgedToken({ alg: 'HS384' }, { sub: user.id }))],
    ['RS256 from a JWKS key while only HS256 is configured', async () => bearer(await rsa.sign({ sub: user.id }))],
    ['ES256 from a JWKS key while only HS256 is configured', async () => bearer(await ec.sign({ sub: user.id }))],
    ['expired', async () => bearer(await hs256({ sub: user.id, expiresIn: -60 }))],
    ['expired one second ago', async () => bearer(await hs256({ sub: user.id, expiresIn: -1 }))],
    ['nbf in the future', async () => bearer(await hs256({ sub: user.id, notBefore: 3600 }))],
    ['missing sub', async () => bearer(await hs256({}))],
    ['empty sub', async () => bearer(await hs256({ sub: '' }))],
    ['sub with a space', async () => bearer(await hs256({ sub: 'a b' }))],
    ['sub of 256 characters', async () => bearer(await hs256({ sub: 's'.repeat(256) }))],
    ['numeric sub', async () => bearer(await hs256({ claims: { sub: 12345 } }))],
    ['missing exp', async () => bearer(await hs256({ sub: user.id, expiresIn: null }))],
    ['exp as a string', async () => bearer(await hs256({ sub: user.id, expiresIn: null, claims: { exp: '9999999999' } }))],
    ['oversized (> 8 KiB) but correctly signed', async () => bearer(await oversizedHs256(user.id))],
    ['garbage', () => 'Bearer garbage'],
    ['three empty parts', () => 'Bearer ..'],
    ['junk segments', () => 'Bearer a.b.c'],
    ['a JSON header that is not an object', () => `Bearer ${Buffer.from('"x"').toString('base64url')}.e30.x`],
    ['Basic credentials', () => `Basic ${Buffer.from(`${user.id}:password`).toString('base64')}`],
    ['a token issued 5 minutes in the future (iat)', () => bearer(rawHs256({ typ: 'JWT' }, { ...validClaims(user.id), iat: Math.floor(Date.now() / 1000) + 300 }))],
    ['a token issued a day in the future (iat)', () => bearer(rawHs256({ typ: 'JWT' }, { ...validClaims(user.id), iat: Math.floor(Date.now() / 1000) + 86_400 }))],
    ['Bearer without a token', () => 'Bearer '],
    ['the token without a scheme', () => user.token],
    ['two tokens', () => `Bearer ${user.token}, Bearer ${user.token}`],
    ['a token with a space inside', () => `Bearer ${user.token.slice(0, 20)} ${user.token.slice(20)}`],
    ['a token with a tampered payload', () => {
      const [h, , s] = user.token.split('.');
      const payload = JSON.parse(Buffer.from(user.token.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>;
      return `Bearer ${h}.${Buffer.from(JSON.stringify({ ...payload, scope: 'admin' })).toString('base64url')}.${s}`;
    }],
    ['a validly signed token with an unknown crit header', () => bearer(rawHs256({ typ: 'JWT', crit: ['x-unknown'], 'x-unknown': 1 }, validClaims(user.id)))],
    ['a token with non-ASCII junk', () => 'Bearer ✓.✓.✓'],
  ];

  it.each(cases)('401 for %s', async (_label, make) => {
    const authorization = await make();
    expect401(await getMe(authorization));
  });

  it('401 on every route for a token signed with a wrong secret and for alg none', async () => {
    await expect401Everywhere(bearer(await hs256({ sub: user.id, admin: true }, 'a-different-secret-of-enough-length-000')));
    await expect401Everywhere(bearer(noneToken({ sub: user.id, admin: true })));
  });

  it('rawHs256 itself yields an accepted token when the header is ordinary (control)', async () => {
    expectOk(await getMe(bearer(rawHs256({ typ: 'JWT' }, validClaims(user.id)))));
  });

  it.each(['bearer', 'BEARER', 'bEaReR'])('accepts the scheme written %s (case-insensitive, RFC 7235)', async (scheme) => {
    expect(expectOk(await getMe(`${scheme} ${user.token}`)).id).toBe(user.id);
  });

  it('accepts a token issued within the 60 s clock skew (iat 10 s ahead)', async () => {
    const token = rawHs256({ typ: 'JWT' }, { ...validClaims(user.id), iat: Math.floor(Date.now() / 1000) + 10 });
    expect(expectOk(await getMe(bearer(token))).id).toBe(user.id);
  });

  it('401 for a token sent in another header', async () => {
    expect401(await call('getUser', { id: user.id, headers: { 'x-authorization': bearer(user.token), 'x-api-key': user.token } }));
  });

  it('a rejected admin claim moves nothing', async () => {
    const forged = await hs256({ sub: `admin-${randomUUID()}`, admin: true }, 'wrong-secret-of-sufficient-length-xyz');
    const deposit = expectOk(await call('createDeposit', { id: user.id, token: user.token, body: { amount: 5, currency: 'USD', paymentToken: 'tok_pending' } }), 201);
    expect401(await call('updateTransaction', { id: deposit.id, token: forged, body: { status: 'completed' } }));
    expect(expectOk(await call('getTransaction', { id: deposit.id, token: user.token })).status).toBe('pending');
  });

  it('random Authorization headers are always 401 in the error shape (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ maxLength: 300 }),
          fc.string({ maxLength: 300 }).map((s) => `Bearer ${s}`),
          fc.tuple(fc.base64String(), fc.base64String(), fc.base64String()).map(([a, b, c]) => `Bearer ${a}.${b}.${c}`),
          fc.jsonValue().map((v) => `Bearer ${Buffer.from(JSON.stringify({ alg: 'HS256' })).toString('base64url')}.${Buffer.from(JSON.stringify(v) ?? 'null').toString('base64url')}.sig`),
        ),
        async (authorization) => {
          const res = await getMe(authorization);
          expect(res.status).toBe(401);
          expectError(res, 401, 'unauthenticated');
        },
      ),
      { numRuns: 150 },
    );
  });

  it('a Lambda event with no headers object at all is 401, not 500', async () => {
    const event = apiGatewayEvent({ method: 'GET', path: `/users/${user.id}`, routeKey: 'GET /users/{id}', pathParameters: { id: user.id } });
    delete (event as { headers?: unknown }).headers;
    expect401(await invokeHandler(ROUTES.getUser.load().handler as never, event));
  });
});

describe('JWKS only (AUTH_JWKS_URL, RS256/ES256)', () => {
  beforeAll(() => configure({ jwks: true }));

  it('accepts a valid RS256 token from the JWKS', async () => {
    expect(expectOk(await getMe(bearer(await rsa.sign({ sub: user.id })))).id).toBe(user.id);
  });

  it('accepts a valid ES256 token from the JWKS', async () => {
    expect(expectOk(await getMe(bearer(await ec.sign({ sub: user.id })))).id).toBe(user.id);
  });

  it('admin scope works with JWKS tokens too', async () => {
    const other = `x-${randomUUID()}`;
    expectError(await getMe(bearer(await rsa.sign({ sub: other }))), 403, 'forbidden');
    expectOk(await getMe(bearer(await rsa.sign({ sub: other, admin: true }))));
  });

  it('401 for HS256 tokens whose HMAC key is the RSA public key (algorithm confusion)', async () => {
    const asPem = await hs256({ sub: user.id }, rsa.publicPem);
    const asJwkJson = await hs256({ sub: user.id }, JSON.stringify(rsa.publicJwk));
    const asModulus = await hs256({ sub: user.id }, Buffer.from(rsa.publicJwk.n ?? '', 'base64url'));
    const withKid = await hs256({ sub: user.id, header: { kid: rsa.kid } }, rsa.publicPem);
    for (const t of [asPem, asJwkJson, asModulus, withKid]) expect401(await getMe(bearer(t)));
  });

  it('401 for an HS256 token signed with the shared test secret when no secret is configured', async () => {
    expect401(await getMe(bearer(user.token)));
  });

  it('401 for tokens signed by a key not in the JWKS, even with a known kid', async () => {
    expect401(await getMe(bearer(await rogue.sign({ sub: user.id }))));
    const { privateKey } = rogue;
    const { SignJWT } = await import('jose');
    const now = Math.floor(Date.now() / 1000);
    const stolenKid = await new SignJWT({ sub: user.id, exp: now + 600 }).setProtectedHeader({ alg: 'RS256', kid: rsa.kid }).sign(privateKey);
    expect401(await getMe(bearer(stolenKid)));
  });

  it('401 for a token pointing at its own key (jku / jwk header injection), without fetching it', async () => {
    const before = attackerJwks.hits();
    const jku = await rogue.sign({ sub: user.id, header: { jku: attackerJwks.url } });
    const embedded = await rogue.sign({ sub: user.id, header: { jwk: rogue.publicJwk } });
    const x5u = await rogue.sign({ sub: user.id, header: { x5u: attackerJwks.url } });
    for (const t of [jku, embedded, x5u]) expect401(await getMe(bearer(t)));
    expect(attackerJwks.hits()).toBe(before);
  });

  it('401 for alg none, expired, nbf, missing sub/exp with JWKS keys', async () => {
    for (const authorization of [
      bearer(noneToken({ sub: user.id })),
      bearer(forgedToken({ alg: 'RS256', kid: rsa.kid }, { sub: user.id })),
      bearer(await rsa.sign({ sub: user.id, expiresIn: -60 })),
      bearer(await ec.sign({ sub: user.id, notBefore: 3600 })),
      bearer(await rsa.sign({})),
      bearer(await ec.sign({ sub: user.id, expiresIn: null })),
    ]) {
      expect401(await getMe(authorization));
    }
  });
});

describe('HS256 and JWKS with AUTH_ISSUER / AUTH_AUDIENCE', () => {
  beforeAll(() => configure({ secret: true, jwks: true, issuer: true }));
  const good = { issuer: ISSUER, audience: AUDIENCE };

  it('accepts HS256, RS256 and ES256 tokens with the right issuer and audience', async () => {
    expectOk(await getMe(bearer(await hs256({ sub: user.id, ...good }))));
    expectOk(await getMe(bearer(await rsa.sign({ sub: user.id, ...good }))));
    expectOk(await getMe(bearer(await ec.sign({ sub: user.id, ...good, audience: [AUDIENCE, 'other'] }))));
  });

  it.each([
    ['wrong issuer', { issuer: 'https://evil.example/', audience: AUDIENCE }],
    ['issuer without the trailing slash', { issuer: ISSUER.slice(0, -1), audience: AUDIENCE }],
    ['missing issuer', { audience: AUDIENCE }],
    ['wrong audience', { issuer: ISSUER, audience: 'another-api' }],
    ['missing audience', { issuer: ISSUER }],
  ])('401 for %s (HS256 and RS256)', async (_label, claims) => {
    expect401(await getMe(bearer(await hs256({ sub: user.id, ...claims }))));
    expect401(await getMe(bearer(await rsa.sign({ sub: user.id, ...claims }))));
  });

  it('401 for an HS256 token keyed with the RSA public key even though HS256 is enabled', async () => {
    expect401(await getMe(bearer(await hs256({ sub: user.id, ...good }, rsa.publicPem))));
    expect401(await getMe(bearer(await hs256({ sub: user.id, ...good, header: { kid: rsa.kid } }, rsa.publicPem))));
  });
});

describe('JWKS endpoint unreachable', () => {
  let dead: JwksServer;
  beforeAll(async () => {
    dead = await startJwksServer([rsa.publicJwk]);
    await dead.close();
    delete process.env.AUTH_JWT_SECRET;
    delete process.env.AUTH_ISSUER;
    delete process.env.AUTH_AUDIENCE;
    process.env.AUTH_JWKS_URL = dead.url;
    process.env.CURSOR_SECRET = 'test-cursor-secret-0123456789';
  });
  afterAll(() => configure({ secret: true }));

  it('answers 401 or 503 in the error shape, never 500', async () => {
    const res = await getMe(bearer(await rsa.sign({ sub: user.id })));
    expect([401, 503]).toContain(res.status);
    expectError(res, res.status, res.status === 401 ? 'unauthenticated' : 'service_unavailable');
  });
});
