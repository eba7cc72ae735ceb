// The app secret read through the real SDK and Powertools from a local endpoint
// that speaks Secrets Manager's protocol, observed through the composition root.
import { inspect } from 'node:util';
import { app, resetApp } from '../../src/composition-root';
import { AppSecretError, parseAppSecret } from '../../src/adapters/secrets/app-secret';
import { logger } from '../../src/observability/logger';
import { ServiceUnavailable } from '../../src/core/errors';
import { startFakeSecretsManager, type FakeSecretsManager } from '../support/fake-secrets-manager';

const JWT_SECRET = 'jwt-secret-from-secrets-manager-0001';
const ROTATED_JWT_SECRET = 'jwt-secret-after-rotation-0000002';

let fake: FakeSecretsManager;
let fakeClosed = false;
const savedEnv = { ...process.env };
let seq = 0;
// Powertools caches per secret id for the whole process: a fresh id per test keeps them apart.
const freshId = (label: string): string => `wallet/test/${label}-${++seq}`;

const useSecret = (secretId: string, maxAgeSeconds = 300): void => {
  process.env.APP_SECRET_ID = secretId;
  process.env.APP_SECRET_MAX_AGE_SECONDS = String(maxAgeSeconds);
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The rejection of `promise`, which must reject. */
const rejectionOf = async (promise: Promise<unknown>): Promise<unknown> => {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
};

beforeAll(async () => {
  fake = await startFakeSecretsManager();
  // Set before the first loadAppSecret builds the SDK client.
  Object.assign(process.env, fake.sdkEnv());
});

beforeEach(() => {
  process.env.STORAGE = 'memory';
  // The secret must be the only source of the JWT secret in these tests.
  delete process.env.AUTH_JWT_SECRET;
  delete process.env.AUTH_JWKS_URL;
  delete process.env.CURSOR_SECRET;
  delete process.env.MAX_AMOUNT;
  delete process.env.STAGE;
});

afterEach(async () => {
  await resetApp();
});

afterAll(async () => {
  await resetApp();
  if (!fakeClosed) await fake.close();
  process.env = savedEnv;
});

describe('app secret through the composition root', () => {
  it('overlays the environment: secret keys win, env-only keys stay, numbers become strings', async () => {
    const id = freshId('override');
    // A stage outside local must opt in to the fake gateway; the secret may say so too.
    fake.setSecret(id, { AUTH_JWT_SECRET: JWT_SECRET, MAX_AMOUNT: 500, POSTGRES_SSL: true, PAYMENT_GATEWAY: 'sandbox' });
    process.env.MAX_AMOUNT = '1000';
    process.env.STAGE = 'from-env';
    useSecret(id);
    const warn = jest.spyOn(logger, 'warn').mockImplementation(() => undefined);

    const { config } = await app();
    // Said at every cold start of a stage that opted in to the fake gateway.
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/^PAYMENT_GATEWAY=sandbox on STAGE=from-env/));
    warn.mockRestore();

    expect(config.auth.jwtSecret).toBe(JWT_SECRET);
    expect(config.maxAmount).toBe(500);
    expect(config.postgres.ssl).toBe(true);
    expect(config.stage).toBe('from-env');
    expect(config.storage).toBe('memory');
    expect(config.paymentGateway).toBe('sandbox');
  });

  it('supplies the cursor key when AUTH_JWKS_URL is the only auth setting, and fails the cold start without one', async () => {
    process.env.AUTH_JWKS_URL = 'https://issuer.example.com/.well-known/jwks.json';
    const id = freshId('cursor');
    fake.setSecret(id, { CURSOR_SECRET: 'cursor-secret-from-secrets-manager-01' });
    useSecret(id);
    expect((await app()).config.cursorSecret).toBe('cursor-secret-from-secrets-manager-01');

    await resetApp();
    const bare = freshId('no-cursor');
    fake.setSecret(bare, { MAX_AMOUNT: 500 });
    useSecret(bare);
    await expect(app()).rejects.toThrow(/CURSOR_SECRET: required when AUTH_JWKS_URL/);
  });

  it('fetches once per max age, also when cold calls arrive together', async () => {
    const id = freshId('cache');
    fake.setSecret(id, { AUTH_JWT_SECRET: JWT_SECRET });
    useSecret(id, 300);

    const [first, concurrent] = await Promise.all([app(), app()]);
    const again = await app();

    expect(fake.calls(id)).toBe(1);
    expect(concurrent).toBe(first);
    expect(again).toBe(first);
  });

  it('picks up a rotated value after the max age: a new App, the old storage closed', async () => {
    const id = freshId('rotation');
    fake.setSecret(id, { AUTH_JWT_SECRET: JWT_SECRET });
    useSecret(id, 1);

    const before = await app();
    const closeOld = jest.spyOn(before.storage, 'close');
    fake.setSecret(id, { AUTH_JWT_SECRET: ROTATED_JWT_SECRET });

    // Within the max age the cached value is still served.
    expect(await app()).toBe(before);
    expect(fake.calls(id)).toBe(1);

    await sleep(1100);
    const after = await app();

    expect(fake.calls(id)).toBe(2);
    expect(after).not.toBe(before);
    expect(after.config.auth.jwtSecret).toBe(ROTATED_JWT_SECRET);
    expect(after.storage).not.toBe(before.storage);
    // The composition root closes the old storage in the background.
    for (let i = 0; i < 50 && closeOld.mock.calls.length === 0; i++) await sleep(10);
    expect(closeOld).toHaveBeenCalledTimes(1);
  });

  it('keeps serving the same App when the max age passes but the value did not change', async () => {
    const id = freshId('unchanged');
    fake.setSecret(id, { AUTH_JWT_SECRET: JWT_SECRET });
    useSecret(id, 1);

    const before = await app();
    await sleep(1100);

    expect(await app()).toBe(before);
    expect(fake.calls(id)).toBe(2);
  });

  const SECRET_VALUE = 'hunter2-do-not-leak-this-value';
  // V8 quotes only the first characters of bad JSON: look for those too.
  const SECRET_PREFIX = SECRET_VALUE.slice(0, 7);

  const failures: {
    name: string;
    reason: AppSecretError['reason'];
    message: RegExp;
    breakIt: (id: string) => void;
    fixIt: (id: string) => void;
  }[] = [
    {
      name: 'missing secret',
      reason: 'not_found',
      message: /not found.*ResourceNotFoundException/,
      breakIt: () => undefined,
      fixIt: (id) => fake.setSecret(id, { AUTH_JWT_SECRET: JWT_SECRET }),
    },
    {
      name: 'access denied',
      reason: 'access_denied',
      message: /access denied.*secretsmanager:GetSecretValue.*AccessDeniedException/,
      breakIt: (id) => {
        fake.setSecret(id, { AUTH_JWT_SECRET: SECRET_VALUE });
        fake.setError(id, 'AccessDeniedException', `User is not authorized to access ${id}`);
      },
      fixIt: (id) => {
        fake.setError(id, undefined);
        fake.setSecret(id, { AUTH_JWT_SECRET: JWT_SECRET });
      },
    },
    {
      name: 'value not JSON',
      reason: 'invalid_json',
      message: /is not valid JSON/,
      // A plain password pasted in instead of a JSON object: JSON.parse errors quote it.
      breakIt: (id) => fake.setSecret(id, SECRET_VALUE),
      fixIt: (id) => fake.setSecret(id, { AUTH_JWT_SECRET: JWT_SECRET }),
    },
    {
      name: 'JSON but not an object',
      reason: 'not_an_object',
      message: /must be a JSON object.*got string/,
      breakIt: (id) => fake.setSecret(id, JSON.stringify(SECRET_VALUE)),
      fixIt: (id) => fake.setSecret(id, { AUTH_JWT_SECRET: JWT_SECRET }),
    },
    {
      name: 'nested object',
      reason: 'invalid_value',
      message: /key "POSTGRES" must be a string, number or boolean, got object/,
      breakIt: (id) => fake.setSecret(id, { AUTH_JWT_SECRET: JWT_SECRET, POSTGRES: { password: SECRET_VALUE } }),
      fixIt: (id) => fake.setSecret(id, { AUTH_JWT_SECRET: JWT_SECRET, POSTGRES_PASSWORD: SECRET_VALUE }),
    },
  ];

  it.each(failures)('$name: app() rejects naming the secret, never its value; the next call after the fix succeeds', async (f) => {
    const id = freshId(f.reason);
    f.breakIt(id);
    // A long max age: a bad value must not stay cached for it.
    useSecret(id, 300);

    const error = await rejectionOf(app());

    // The composition root answers in the core's terms; the adapter's error is the cause.
    expect(error).toBeInstanceOf(ServiceUnavailable);
    expect((error as ServiceUnavailable).publicMessage).toBe('Configuration is temporarily unavailable, try again shortly');
    const e = (error as Error).cause as AppSecretError;
    expect(e).toBeInstanceOf(AppSecretError);
    expect(e.reason).toBe(f.reason);
    expect(e.secretId).toBe(id);
    expect(e.message).toContain(`"${id}"`);
    expect(e.message).toMatch(f.message);
    // The whole error as a logger would print it: message, stack and cause.
    const printed = inspect(error, { depth: 10 });
    expect(printed).not.toContain(SECRET_PREFIX);
    expect(printed).not.toContain(JWT_SECRET.slice(0, 10));

    f.fixIt(id);
    const fixed = await app();
    expect(fixed.config.auth.jwtSecret).toBe(JWT_SECRET);
  });

  it('does not fall back to stale settings: a failing secret fails the call even after a good build', async () => {
    const id = freshId('revoked');
    fake.setSecret(id, { AUTH_JWT_SECRET: JWT_SECRET });
    useSecret(id, 0);
    await app();

    fake.setError(id, 'AccessDeniedException');
    await expect(app()).rejects.toThrow(ServiceUnavailable);
    fake.setError(id, undefined);
    expect((await app()).config.auth.jwtSecret).toBe(JWT_SECRET);
  });

  // Last: it takes the endpoint away for the rest of the file.
  it('endpoint unreachable: rejects naming the secret and the network failure', async () => {
    const id = freshId('unreachable');
    fake.setSecret(id, { AUTH_JWT_SECRET: SECRET_VALUE });
    useSecret(id);
    await fake.close();
    fakeClosed = true;

    const error = await rejectionOf(app());

    expect(error).toBeInstanceOf(ServiceUnavailable);
    const e = (error as Error).cause as AppSecretError;
    expect(e).toBeInstanceOf(AppSecretError);
    expect(e.reason).toBe('unreachable');
    expect(e.message).toContain(`"${id}"`);
    expect(e.message).toMatch(/endpoint unreachable \(ECONNREFUSED\)/);
    expect(inspect(error, { depth: 10 })).not.toContain(SECRET_PREFIX);
  });
});

describe('parseAppSecret', () => {
  it('keeps strings, stringifies numbers and booleans', () => {
    expect(parseAppSecret('s', { A: 'x', B: 42, C: false, D: 1.5 })).toEqual({ A: 'x', B: '42', C: 'false', D: '1.5' });
  });

  it.each([
    ['an array', ['x'], /got an array/],
    ['a number', 7, /got number/],
    ['null', null, /has no value/],
  ])('rejects %s at the top level', (_label, value, message) => {
    expect(() => parseAppSecret('s', value)).toThrow(message);
  });

  it.each([
    ['null', { A: null }, /key "A".*got null/],
    ['an array', { A: ['x'] }, /key "A".*got an array/],
    ['an object', { A: { b: 'x' } }, /key "A".*got object/],
  ])('rejects %s as a value', (_label, value, message) => {
    expect(() => parseAppSecret('s', value)).toThrow(message);
  });

  it('treats a "__proto__" key as data, not as the prototype', () => {
    const settings = parseAppSecret('s', JSON.parse('{"__proto__": "x", "A": "y"}'));
    expect(Object.getPrototypeOf(settings)).toBe(Object.prototype);
    expect(Object.keys(settings)).toEqual(['__proto__', 'A']);
  });
});
