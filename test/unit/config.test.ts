import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';
import devDefaults from '../../scripts/dev-defaults.json';
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
    expect(c.paymentGateway).toBe('sandbox');
    expect(c.redis.tls).toBe(false);
    expect(c.warnings).toEqual([]);
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
    ['POSTGRES_PORT', '0x10'],
    ['POSTGRES_PORT', ' 5432'],
    ['MAX_AMOUNT', '9007199254740993'],
    ['MAX_AMOUNT', '0.99999999999999999'],
  ])('%s=%j → ConfigError naming the variable', (name, value) => {
    const e = configErrorOf({ ...base, [name]: value });
    expect(e.problems.some((p) => p.startsWith(`${name}:`))).toBe(true);
    expect(e.message).toContain(name);
  });

  it('says what each kind of variable accepts, in table order, and never echoes the refused value', () => {
    const refused = { POSTGRES_PORT: '70000', REDIS_DB: 'x9q', STORAGE: 'oraclé', POSTGRES_SSL: 'yes-please', AUTH_JWKS_URL: 'not a url', CURSOR_SECRET: 'short-sekrit' };
    const e = configErrorOf({ ...base, ...refused });
    expect(e.problems).toEqual([
      'STORAGE: must be one of memory, pglite, postgres, redis, mongodb',
      'AUTH_JWKS_URL: must be an absolute URL',
      'CURSOR_SECRET: must be at least 16 characters',
      'POSTGRES_PORT: must be between 1 and 65535',
      'POSTGRES_SSL: must be true, false, 1 or 0',
      'REDIS_DB: must be an integer',
    ]);
    for (const r of renderings(e)) for (const value of Object.values(refused)) expect(r).not.toContain(value);
  });

  it('counts characters, not UTF-16 units, for the 16-character minimum of a signing key', () => {
    expect(configErrorOf({ AUTH_JWT_SECRET: '😀'.repeat(15) }).problems).toEqual(['AUTH_JWT_SECRET: must be at least 16 characters']);
    expect(parseConfig({ AUTH_JWT_SECRET: '😀'.repeat(16) }).auth.jwtSecret).toBe('😀'.repeat(16));
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
    const jwks = parseConfig({ AUTH_JWKS_URL: 'https://issuer.example.com/.well-known/jwks.json', CURSOR_SECRET: 'cursor-secret-0123456789' });
    expect(jwks.auth.jwksUrl).toBe('https://issuer.example.com/.well-known/jwks.json');
  });

  it('never derives the cursor key from a public value: JWKS alone needs CURSOR_SECRET', () => {
    const jwksUrl = 'https://issuer.example.com/.well-known/jwks.json';
    const e = configErrorOf({ AUTH_JWKS_URL: jwksUrl });
    expect(e.problems).toHaveLength(1);
    expect(e.problems[0]).toMatch(/^CURSOR_SECRET: required when AUTH_JWKS_URL/);
    expect(parseConfig({ AUTH_JWKS_URL: jwksUrl, CURSOR_SECRET: 'cursor-secret-0123456789' }).cursorSecret).toBe('cursor-secret-0123456789');
    // A tool that verifies no token (npm run migrate) gets a random key, not a guessable one.
    const [a, b] = [parseConfig({ AUTH_JWKS_URL: jwksUrl }, { requireAuth: false }), parseConfig({}, { requireAuth: false })];
    expect(a.cursorSecret).not.toContain(jwksUrl);
    expect([a.cursorSecret, b.cursorSecret]).not.toContain('cursor:local');
    expect(a.cursorSecret).not.toBe(b.cursorSecret);
  });

  it('bounds the idempotency lease by the function timeout: timeout + 5 s, an override below the timeout refused', () => {
    expect(parseConfig(base).idempotency.leaseMs).toBe(30_000); // unset timeout: 25 s, the deposit function's
    expect(parseConfig({ ...base, FUNCTION_TIMEOUT_SECONDS: '15' }).idempotency.leaseMs).toBe(20_000);
    expect(parseConfig({ ...base, FUNCTION_TIMEOUT_SECONDS: '60' }).idempotency.leaseMs).toBe(65_000);
    expect(parseConfig({ ...base, FUNCTION_TIMEOUT_SECONDS: '15', IDEMPOTENCY_LEASE_SECONDS: '15' }).idempotency.leaseMs).toBe(15_000);
    expect(parseConfig({ ...base, FUNCTION_TIMEOUT_SECONDS: '1', IDEMPOTENCY_LEASE_SECONDS: '1' }).idempotency.leaseMs).toBe(1_000);
    const e = configErrorOf({ ...base, FUNCTION_TIMEOUT_SECONDS: '25', IDEMPOTENCY_LEASE_SECONDS: '20' });
    expect(e.problems).toEqual([expect.stringMatching(/^IDEMPOTENCY_LEASE_SECONDS: must be at least FUNCTION_TIMEOUT_SECONDS/)]);
    expect(configErrorOf({ ...base, FUNCTION_TIMEOUT_SECONDS: '901' }).message).toContain('FUNCTION_TIMEOUT_SECONDS');
    // Abandoning a deposit still waits for its key to expire, lease included.
    expect(configErrorOf({ ...base, IDEMPOTENCY_TTL_HOURS: '24', RECONCILE_ABANDON_AFTER_SECONDS: String(86_400 + 29) }).message).toContain('RECONCILE_ABANDON_AFTER_SECONDS');
    expect(parseConfig({ ...base, IDEMPOTENCY_TTL_HOURS: '24', RECONCILE_ABANDON_AFTER_SECONDS: String(86_400 + 30) }).reconcile.abandonAfterMs).toBe((86_400 + 30) * 1000);
  });

  it('keeps the app secret settings out of the config (the composition root reads them) but still validates them', () => {
    expect(parseConfig({ ...base, APP_SECRET_ID: 'wallet/x/app' })).not.toHaveProperty('appSecret');
    expect(configErrorOf({ ...base, APP_SECRET_MAX_AGE_SECONDS: 'soon' }).message).toContain('APP_SECRET_MAX_AGE_SECONDS');
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

describe('outside STAGE=local', () => {
  const STRONG = 'prod-jwt-secret-0123456789abcdef-xyz'; // 36 bytes
  const prod: Settings = { STAGE: 'prod', AUTH_JWT_SECRET: STRONG, PAYMENT_API_URL: 'https://pay.example.com/v1', PAYMENT_API_KEY: 'sk_live_x' };

  it('accepts a complete configuration, with TLS to PostgreSQL and Redis on by default and nothing to warn about', () => {
    const c = parseConfig(prod);
    expect(c.paymentGateway).toBe('http');
    expect(c.postgres.ssl).toBe(true);
    expect(c.redis.tls).toBe(true);
    expect(c.warnings).toEqual([]);
  });

  it('refuses to start without PAYMENT_API_URL, in one line naming it and the opt-in', () => {
    const e = configErrorOf({ ...prod, PAYMENT_API_URL: undefined, PAYMENT_API_KEY: undefined });
    expect(e.problems).toEqual([expect.stringMatching(/^PAYMENT_API_URL: required on STAGE=prod/)]);
    expect(e.message).toContain('PAYMENT_GATEWAY=sandbox');
    expect(e.message).not.toContain('\n');
    // Locally the fake gateway stays the default (npm start needs no configuration).
    expect(parseConfig({ ...base, STAGE: 'local' }).paymentGateway).toBe('sandbox');
  });

  it('uses the fake gateway only when the stage opts in, and says so', () => {
    const c = parseConfig({ ...prod, PAYMENT_API_URL: undefined, PAYMENT_API_KEY: undefined, PAYMENT_GATEWAY: 'sandbox' });
    expect(c.paymentGateway).toBe('sandbox');
    expect(c.warnings).toEqual([expect.stringMatching(/^PAYMENT_GATEWAY=sandbox on STAGE=prod .*fake gateway/)]);
    expect(configErrorOf({ ...prod, PAYMENT_GATEWAY: 'sandbox' }).message).toMatch(/PAYMENT_GATEWAY: sandbox .* PAYMENT_API_URL/);
    expect(configErrorOf({ ...base, PAYMENT_GATEWAY: 'http' }).message).toContain('PAYMENT_API_URL: required when PAYMENT_GATEWAY=http');
  });

  it('needs an https: gateway URL (plain http stays allowed locally)', () => {
    const e = configErrorOf({ ...prod, PAYMENT_API_URL: 'http://pay.example.com/v1' });
    expect(e.problems).toEqual([expect.stringMatching(/^PAYMENT_API_URL: must be an https: URL/)]);
    expect(parseConfig({ ...base, PAYMENT_API_URL: 'http://127.0.0.1:4010', PAYMENT_API_KEY: 'k' }).paymentGateway).toBe('http');
  });

  it('refuses the committed development JWT secret (as either key), without echoing it', () => {
    const dev = devDefaults.devJwtSecret;
    expect(parseConfig({ AUTH_JWT_SECRET: dev }).auth.jwtSecret).toBe(dev);
    for (const name of ['AUTH_JWT_SECRET', 'CURSOR_SECRET']) {
      const e = configErrorOf({ ...prod, [name]: dev });
      expect(e.problems).toEqual([`${name}: the committed development secret is refused on STAGE=prod (outside local)`]);
      for (const text of renderings(e)) expect(text).not.toContain(dev);
    }
  });

  it('refuses HS256 and cursor secrets under 32 bytes, counting bytes, not characters', () => {
    const short = 'a'.repeat(31);
    expect(parseConfig({ AUTH_JWT_SECRET: short }).auth.jwtSecret).toBe(short);
    expect(configErrorOf({ ...prod, AUTH_JWT_SECRET: short }).problems).toEqual([expect.stringMatching(/^AUTH_JWT_SECRET: must be at least 32 bytes/)]);
    expect(configErrorOf({ ...prod, CURSOR_SECRET: short }).problems).toEqual([expect.stringMatching(/^CURSOR_SECRET: must be at least 32 bytes/)]);
    expect(parseConfig({ ...prod, AUTH_JWT_SECRET: 'a'.repeat(32) }).auth.jwtSecret).toHaveLength(32);
    expect(parseConfig({ ...prod, AUTH_JWT_SECRET: 'é'.repeat(16) }).auth.jwtSecret).toHaveLength(16); // 32 bytes
    for (const text of renderings(configErrorOf({ ...prod, AUTH_JWT_SECRET: short }))) expect(text).not.toContain(short);
  });

  it('takes PAYMENT_WEBHOOK_SECRET like the other signing keys: 16 characters locally; 32 bytes, not the dev secret and not the JWT key elsewhere', () => {
    expect(parseConfig(base).paymentWebhookSecret).toBeUndefined();
    expect(parseConfig({ ...base, PAYMENT_WEBHOOK_SECRET: 'whsec_local_0123' }).paymentWebhookSecret).toBe('whsec_local_0123');
    expect(configErrorOf({ ...base, PAYMENT_WEBHOOK_SECRET: 'short' }).problems).toEqual(['PAYMENT_WEBHOOK_SECRET: must be at least 16 characters']);
    const strong = 'whsec_prod_0123456789abcdef0123456789';
    expect(parseConfig({ ...prod, PAYMENT_WEBHOOK_SECRET: strong }).paymentWebhookSecret).toBe(strong);
    const short = 'whsec_prod_0123456789abcdef';
    expect(configErrorOf({ ...prod, PAYMENT_WEBHOOK_SECRET: short }).problems).toEqual([expect.stringMatching(/^PAYMENT_WEBHOOK_SECRET: must be at least 32 bytes/)]);
    expect(configErrorOf({ ...prod, PAYMENT_WEBHOOK_SECRET: devDefaults.devJwtSecret }).problems)
      .toEqual(['PAYMENT_WEBHOOK_SECRET: the committed development secret is refused on STAGE=prod (outside local)']);
    expect(configErrorOf({ ...prod, PAYMENT_WEBHOOK_SECRET: STRONG }).problems)
      .toEqual(['PAYMENT_WEBHOOK_SECRET: must not be the same as AUTH_JWT_SECRET on STAGE=prod (outside local)']);
    for (const text of renderings(configErrorOf({ ...prod, PAYMENT_WEBHOOK_SECRET: short }))) expect(text).not.toContain(short);
  });

  it('turns TLS off only when told, and warns about it for the storage in use', () => {
    const pg = parseConfig({ ...prod, STORAGE: 'postgres', POSTGRES_SSL: 'false' });
    expect(pg.postgres.ssl).toBe(false);
    expect(pg.warnings).toEqual([expect.stringMatching(/^POSTGRES_SSL=false on STAGE=prod/)]);
    const redis = parseConfig({ ...prod, STORAGE: 'redis', REDIS_TLS: 'false' });
    expect(redis.redis.tls).toBe(false);
    expect(redis.warnings).toEqual([expect.stringMatching(/^REDIS_TLS=false on STAGE=prod/)]);
    expect(parseConfig({ ...prod, STORAGE: 'postgres', POSTGRES_SSL: 'true' }).warnings).toEqual([]);
  });

  it('reports every unsafe setting at once', () => {
    const e = configErrorOf({ STAGE: 'staging', AUTH_JWT_SECRET: devDefaults.devJwtSecret });
    expect(e.problems.map((p) => p.split(':')[0]).sort()).toEqual(['AUTH_JWT_SECRET', 'PAYMENT_API_URL']);
  });
});

describe('adapter options', () => {
  const files = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? files(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : []));

  it('no adapter imports src/config.ts: each takes its own options type, built by config.ts', () => {
    const adapters = join(__dirname, '../../src/adapters');
    const importers = files(adapters).filter((f) => /from '(\.\.\/)+config'/.test(readFileSync(f, 'utf8')));
    expect(importers).toEqual([]);
  });
});
