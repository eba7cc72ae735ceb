import { inspect } from 'node:util';
import { ConfigError, EMBEDDED_DEFAULT, parseConfig, type Settings } from '../../src/config';

const SECRET = 'unit-test-jwt-secret-abcdefghijkl';
const base: Settings = { AUTH_JWT_SECRET: SECRET };

/** The ConfigError thrown for `settings`; fails when nothing is thrown. */
const configErrorOf = (settings: Settings): ConfigError => {
  try {
    parseConfig(settings);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw new Error(`expected a ConfigError, got ${String(e)}`);
  }
  throw new Error('expected a ConfigError, parseConfig succeeded');
};

/** Every way the error could reach a log or a terminal. */
const renderings = (e: ConfigError): string[] => [e.message, String(e), inspect(e), e.stack ?? '', JSON.stringify(e), e.problems.join('\n')];

describe('config parsing', () => {
  it('applies the documented defaults', () => {
    const c = parseConfig(base);
    // Unset STORAGE is the embedded default: no server to reach.
    expect(c.storage).toBe(EMBEDDED_DEFAULT);
    expect(['memory', 'pglite']).toContain(c.storage);
    expect(c.stage).toBe('local');
    expect(c.maxAmount).toBe(100_000_000_000);
    expect(c.logLevel).toBe('INFO');
    expect(c.auth).toEqual({ jwtSecret: SECRET, jwksUrl: undefined, issuer: undefined, audience: undefined });
    expect(c.postgres.port).toBe(5432);
    expect(c.postgres.ssl).toBe(false);
    expect(c.redis.port).toBe(6379);
    expect(c.idempotency.ttlMs).toBeGreaterThanOrEqual(24 * 3_600_000);
    expect(c.payment.apiUrl).toBeUndefined();
    expect(typeof c.cursorSecret).toBe('string');
  });

  it('reads valid values and treats empty strings as unset', () => {
    const c = parseConfig({ ...base, STORAGE: 'redis', MAX_AMOUNT: '5000', POSTGRES_PORT: '6543', POSTGRES_SSL: 'true', LOG_LEVEL: 'silent', AUTH_ISSUER: '', REDIS_DB: '' });
    expect(c.storage).toBe('redis');
    expect(c.maxAmount).toBe(5000);
    expect(c.postgres.port).toBe(6543);
    expect(c.postgres.ssl).toBe(true);
    expect(c.logLevel).toBe('SILENT');
    expect(c.auth.issuer).toBeUndefined();
    expect(c.redis.db).toBe(0);
  });

  it.each([
    ['POSTGRES_PORT', 'abc'],
    ['POSTGRES_PORT', '70000'],
    ['POSTGRES_PORT', '54.32'],
    ['MAX_AMOUNT', '0'],
    ['MAX_AMOUNT', '-5'],
    ['MAX_AMOUNT', '100000000001'],
    ['MAX_AMOUNT', '1e3'],
    ['STORAGE', 'oracle'],
    ['POSTGRES_SSL', 'yes'],
    ['LOG_LEVEL', 'LOUD'],
    ['IDEMPOTENCY_TTL_HOURS', '1'],
    ['AUTH_JWKS_URL', 'not a url'],
    ['PAYMENT_API_URL', 'nope'],
  ])('%s=%j → ConfigError naming the variable', (name, value) => {
    const e = configErrorOf({ ...base, [name]: value });
    expect(e.problems.some((p) => p.startsWith(`${name}:`))).toBe(true);
    expect(e.message).toContain(name);
  });

  it('names every invalid variable at once', () => {
    const e = configErrorOf({ ...base, POSTGRES_PORT: 'abc', MAX_AMOUNT: '0' });
    expect(e.message).toContain('POSTGRES_PORT');
    expect(e.message).toContain('MAX_AMOUNT');
  });

  it('never echoes the value of a secret it rejects', () => {
    const shortSecret = 'Sh0rtS3cret!';
    const e = configErrorOf({ AUTH_JWT_SECRET: shortSecret });
    expect(e.message).toContain('AUTH_JWT_SECRET');
    for (const text of renderings(e)) expect(text).not.toContain(shortSecret);

    const cursorSecret = 'tiny-cur$or';
    const e2 = configErrorOf({ ...base, CURSOR_SECRET: cursorSecret });
    expect(e2.message).toContain('CURSOR_SECRET');
    for (const text of renderings(e2)) expect(text).not.toContain(cursorSecret);
  });

  it('does not echo other settings (secrets included) when one variable is invalid', () => {
    const settings = { ...base, PAYMENT_API_URL: 'https://pay.example.com', PAYMENT_API_KEY: 'sk_live_very_secret_key_123', POSTGRES_PASSWORD: 'pg-pa55word-xyz', REDIS_PASSWORD: 'redis-pa55-xyz', MONGODB_URI: 'mongodb://u:mongo-pa55@h/db', POSTGRES_PORT: 'abc' };
    const e = configErrorOf(settings);
    for (const text of renderings(e)) {
      for (const secret of [SECRET, 'sk_live_very_secret_key_123', 'pg-pa55word-xyz', 'redis-pa55-xyz', 'mongo-pa55', 'abc']) expect(text).not.toContain(secret);
    }
  });

  it('does not echo a credential embedded in an invalid URL', () => {
    const url = 'https://user:hunter2-pa55@ pay.example.com';
    const e = configErrorOf({ ...base, PAYMENT_API_URL: url, PAYMENT_API_KEY: 'k' });
    expect(e.message).toContain('PAYMENT_API_URL');
    for (const text of renderings(e)) expect(text).not.toContain('hunter2-pa55');
  });

  it('needs AUTH_JWT_SECRET or AUTH_JWKS_URL', () => {
    expect(configErrorOf({}).message).toMatch(/AUTH_JWT_SECRET|AUTH_JWKS_URL/);
    expect(configErrorOf({ AUTH_JWT_SECRET: '' }).message).toMatch(/AUTH_JWT_SECRET/);
    expect(parseConfig({ AUTH_JWKS_URL: 'https://issuer.example.com/.well-known/jwks.json' }).auth.jwksUrl).toBe('https://issuer.example.com/.well-known/jwks.json');
  });

  it('checks settings that depend on each other', () => {
    expect(configErrorOf({ ...base, PAYMENT_API_URL: 'https://pay.example.com' }).message).toContain('PAYMENT_API_KEY');
    expect(configErrorOf({ ...base, STORAGE: 'mongodb' }).message).toContain('MONGODB_URI');
  });

  it('derives different cursor secrets from different JWT secrets', () => {
    const a = parseConfig({ AUTH_JWT_SECRET: 'first-secret-0000000000000000' }).cursorSecret;
    const b = parseConfig({ AUTH_JWT_SECRET: 'second-secret-000000000000000' }).cursorSecret;
    expect(a).not.toBe(b);
    expect(parseConfig({ ...base, CURSOR_SECRET: 'explicit-cursor-secret-123' }).cursorSecret).toBe('explicit-cursor-secret-123');
  });
});
