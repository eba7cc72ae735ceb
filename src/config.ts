// The only reader of process.env. Validated once per cold start; an invalid
// variable fails fast with a message naming it (and never echoing its value).
import { randomBytes } from 'node:crypto';
import devDefaults from '../scripts/dev-defaults.json';
import type { EventBridgePublisherOptions } from './adapters/eventbridge/eventbridge-publisher';
import type { MongoSettings } from './adapters/mongodb/mongo-client';
import type { HttpPaymentGatewayOptions } from './adapters/payment-gateway/http-payment-gateway';
import type { PgliteOptions } from './adapters/postgres';
import type { PostgresOptions } from './adapters/postgres/pg-executor';
import type { RedisSettings } from './adapters/redis/redis-client';
import { CONTRACT_MAX_AMOUNT } from './core/money';

export const STORAGE_KINDS = ['memory', 'pglite', 'postgres', 'redis', 'mongodb'] as const;
export type StorageKind = (typeof STORAGE_KINDS)[number];
/** What `STORAGE` unset means: the durable embedded store. */
export const EMBEDDED_DEFAULT: StorageKind = 'pglite';

/** Raw settings: environment variables, overlaid by the app secret's keys. */
export type Settings = Record<string, string | undefined>;

/** The one stage where development conveniences (fake gateway, short secrets, plain-text connections) are allowed. */
export const LOCAL_STAGE = 'local';
/** HS256 keys need at least as many bytes as the hash (RFC 7518 §3.2). */
export const MIN_SECRET_BYTES_OUTSIDE_LOCAL = 32;
/** Added to the function timeout for the default idempotency lease: time around the handler and clock skew between instances. */
export const LEASE_MARGIN_SECONDS = 5;
/** FUNCTION_TIMEOUT_SECONDS when unset (tests, scripts): the longest HTTP function's timeout in serverless.yml. */
export const DEFAULT_FUNCTION_TIMEOUT_SECONDS = 25;

// Every variable is a string to check and convert: a table of readers (SETTINGS), each
// naming its kind, range and value when unset, read in one pass that reports every
// refused variable. Deliberately not a zod schema: building one for these ~60 variables
// took ≈ 10 ms of a ≈ 50 ms cold start (the largest single share; this table takes
// ≈ 1 ms), and it put zod into functions that validate no body or query (the GET
// routes). Request bodies and queries keep their zod schemas (src/http/schemas.ts).

/** A variable's value is refused; the message names the rule, never the value. */
class Invalid extends Error {}

/** How one variable is read: its conversion, and its value when unset or empty. */
interface Setting<T> {
  read: (raw: string) => T;
  unset: T;
}
const optional = <T>(read: (raw: string) => T): Setting<T | undefined> => ({ read, unset: undefined });
const withDefault = <T>(read: (raw: string) => T, unset: NoInfer<T>): Setting<T> => ({ read, unset });

const asText = (raw: string): string => raw;
/** At least 16 characters (code points); outside local, secretProblems asks for 32 bytes. */
const asSigningKey = (raw: string): string => {
  if ([...raw].length < 16) throw new Invalid('must be at least 16 characters');
  return raw;
};
const asUrl = (raw: string): string => {
  const url = raw.trim();
  if (!URL.canParse(url)) throw new Invalid('must be an absolute URL');
  return url;
};
const asFlag = (raw: string): boolean => {
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new Invalid('must be true, false, 1 or 0');
};
const oneOf = <const V extends string>(values: readonly V[]) => (raw: string): V => {
  if (!(values as readonly string[]).includes(raw)) throw new Invalid(`must be one of ${values.join(', ')}`);
  return raw as V;
};
/** A decimal integer within [min, max]. */
const integer = (min: number, max: number) => (raw: string): number => {
  if (!/^-?\d+$/.test(raw)) throw new Invalid('must be an integer');
  const n = Number(raw);
  if (!(n >= min && n <= max)) throw new Invalid(`must be between ${min} and ${max}`);
  return n;
};

const SETTINGS = {
  STAGE: withDefault(asText, LOCAL_STAGE),
  STORAGE: optional(oneOf(STORAGE_KINDS)),
  DATA_DIR: withDefault(asText, '.data'),
  MAX_AMOUNT: withDefault(integer(1, CONTRACT_MAX_AMOUNT), CONTRACT_MAX_AMOUNT),
  LOG_LEVEL: withDefault(oneOf(['DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT', 'debug', 'info', 'warn', 'error', 'silent']), 'INFO'),

  AUTH_JWT_SECRET: optional(asSigningKey),
  AUTH_JWKS_URL: optional(asUrl),
  AUTH_ISSUER: optional(asText),
  AUTH_AUDIENCE: optional(asText),
  CURSOR_SECRET: optional(asSigningKey),

  // Lambda does not tell a function its timeout; serverless.yml sets this per function.
  FUNCTION_TIMEOUT_SECONDS: withDefault(integer(1, 900), DEFAULT_FUNCTION_TIMEOUT_SECONDS),
  IDEMPOTENCY_LEASE_SECONDS: optional(integer(1, 3600)),
  IDEMPOTENCY_TTL_HOURS: withDefault(integer(24, 24 * 30), 24),

  POSTGRES_HOST: withDefault(asText, '127.0.0.1'),
  POSTGRES_PORT: withDefault(integer(1, 65535), 5432),
  POSTGRES_USER: withDefault(asText, 'postgres'),
  POSTGRES_PASSWORD: optional(asText),
  POSTGRES_DB: withDefault(asText, 'wallet'),
  POSTGRES_SSL: optional(asFlag),
  POSTGRES_SYNC: withDefault(asFlag, false),
  POSTGRES_POOL_MAX: withDefault(integer(1, 50), 2),
  POSTGRES_CONNECT_TIMEOUT_MS: withDefault(integer(100, 60_000), 3000),
  POSTGRES_STATEMENT_TIMEOUT_MS: withDefault(integer(100, 60_000), 5000),

  REDIS_HOST: withDefault(asText, '127.0.0.1'),
  REDIS_PORT: withDefault(integer(1, 65535), 6379),
  REDIS_PASSWORD: optional(asText),
  REDIS_DB: withDefault(integer(0, 15), 0),
  REDIS_TLS: optional(asFlag),
  REDIS_KEY_PREFIX: withDefault(asText, 'wallet:'),
  REDIS_CONNECT_TIMEOUT_MS: withDefault(integer(100, 60_000), 3000),
  REDIS_COMMAND_TIMEOUT_MS: withDefault(integer(100, 60_000), 3000),

  MONGODB_URI: optional(asText),
  MONGODB_DB: withDefault(asText, 'wallet'),
  MONGODB_MAX_POOL_SIZE: withDefault(integer(1, 100), 5),
  MONGODB_SERVER_SELECTION_TIMEOUT_MS: withDefault(integer(100, 60_000), 3000),
  MONGODB_TRANSACTION_TIMEOUT_MS: withDefault(integer(100, 60_000), 5000),

  // `sandbox`: the built-in fake gateway, on purpose (the default in STAGE=local only).
  PAYMENT_GATEWAY: optional(oneOf(['http', 'sandbox'])),
  PAYMENT_API_URL: optional(asUrl),
  PAYMENT_API_KEY: optional(asText),
  PAYMENT_TIMEOUT_MS: withDefault(integer(50, 60_000), 5000),
  PAYMENT_MAX_RETRIES: withDefault(integer(0, 10), 2),
  PAYMENT_CIRCUIT_THRESHOLD: withDefault(integer(1, 100), 5),
  PAYMENT_CIRCUIT_HALF_OPEN_MS: withDefault(integer(100, 600_000), 30_000),
  // Keys the HMAC of POST /webhooks/payments; unset, that route does not exist.
  PAYMENT_WEBHOOK_SECRET: optional(asSigningKey),

  RECONCILE_OLDER_THAN_SECONDS: withDefault(integer(0, 86_400), 60),
  RECONCILE_BATCH_SIZE: withDefault(integer(1, 1000), 100),
  RECONCILE_TIME_BUDGET_MS: withDefault(integer(100, 900_000), 20_000),
  RECONCILE_ABANDON_AFTER_SECONDS: withDefault(integer(60, 30 * 86_400), 90_000),

  // Events (EventBridge): unset, nothing is written to the outbox and nothing is published.
  EVENT_BUS_NAME: optional(asText),
  EVENTS_INLINE_BUDGET_MS: withDefault(integer(0, 10_000), 1000),
  EVENTS_RELAY_BATCH_SIZE: withDefault(integer(1, 1000), 100),
  EVENTS_RELAY_TIME_BUDGET_MS: withDefault(integer(100, 900_000), 20_000),
  EVENTS_CLAIM_LEASE_SECONDS: withDefault(integer(1, 3600), 30),

  APP_SECRET_ID: optional(asText),
  APP_SECRET_MAX_AGE_SECONDS: withDefault(integer(0, 86_400), 300),
};

type Values = { [K in keyof typeof SETTINGS]: (typeof SETTINGS)[K] extends Setting<infer T> ? T : never };

/** Every variable read (unset or empty: its default); one problem per refused variable. */
const readSettings = (settings: Settings): { values: Values; problems: string[] } => {
  const values: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [name, setting] of Object.entries(SETTINGS) as [string, Setting<unknown>][]) {
    const raw = settings[name];
    try {
      values[name] = raw === undefined || raw === '' ? setting.unset : setting.read(raw);
    } catch (err) {
      if (!(err instanceof Invalid)) throw err;
      problems.push(`${name}: ${err.message}`);
    }
  }
  return { values: values as Values, problems };
};

export type Config = ReturnType<typeof toConfig>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

const toConfig = (v: Values) => {
  const local = v.STAGE === LOCAL_STAGE;
  const leaseSeconds = v.IDEMPOTENCY_LEASE_SECONDS ?? v.FUNCTION_TIMEOUT_SECONDS + LEASE_MARGIN_SECONDS;
  return {
    stage: v.STAGE,
    storage: v.STORAGE ?? EMBEDDED_DEFAULT,
    dataDir: v.DATA_DIR,
    maxAmount: v.MAX_AMOUNT,
    logLevel: v.LOG_LEVEL.toUpperCase() as 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT',
    auth: {
      jwtSecret: v.AUTH_JWT_SECRET,
      jwksUrl: v.AUTH_JWKS_URL,
      issuer: v.AUTH_ISSUER,
      audience: v.AUTH_AUDIENCE,
    },
    /**
     * Signs pagination cursors: CURSOR_SECRET, else derived from the JWT secret. Never
     * from a public value (the JWKS URL): parseConfig requires CURSOR_SECRET then, so the
     * random key is left for tools that verify no token and sign no cursor.
     */
    cursorSecret: v.CURSOR_SECRET ?? (v.AUTH_JWT_SECRET === undefined ? randomBytes(32).toString('base64url') : `cursor:${v.AUTH_JWT_SECRET}`),
    /**
     * A claim's lease outlives any request that can still be running (the function's
     * timeout plus a margin); a take-over after it is safe anyway, thanks to claim tokens.
     */
    idempotency: { leaseMs: leaseSeconds * 1000, ttlMs: v.IDEMPOTENCY_TTL_HOURS * 3_600_000 },
    // Each adapter's own options (the adapter declares the type; only config.ts reads the environment).
    pglite: { dataDir: v.DATA_DIR, events: v.EVENT_BUS_NAME !== undefined } satisfies PgliteOptions,
    postgres: {
      host: v.POSTGRES_HOST,
      port: v.POSTGRES_PORT,
      user: v.POSTGRES_USER,
      password: v.POSTGRES_PASSWORD,
      database: v.POSTGRES_DB,
      // TLS unless said otherwise, except on a developer's machine.
      ssl: v.POSTGRES_SSL ?? !local,
      /** Run migrations at start (local use only). */
      runMigrations: v.POSTGRES_SYNC,
      poolMax: v.POSTGRES_POOL_MAX,
      connectTimeoutMs: v.POSTGRES_CONNECT_TIMEOUT_MS,
      statementTimeoutMs: v.POSTGRES_STATEMENT_TIMEOUT_MS,
      events: v.EVENT_BUS_NAME !== undefined,
    } satisfies PostgresOptions,
    redis: {
      host: v.REDIS_HOST,
      port: v.REDIS_PORT,
      password: v.REDIS_PASSWORD,
      db: v.REDIS_DB,
      tls: v.REDIS_TLS ?? !local,
      keyPrefix: v.REDIS_KEY_PREFIX,
      connectTimeoutMs: v.REDIS_CONNECT_TIMEOUT_MS,
      commandTimeoutMs: v.REDIS_COMMAND_TIMEOUT_MS,
      events: v.EVENT_BUS_NAME !== undefined,
    } satisfies RedisSettings,
    mongodb: {
      uri: v.MONGODB_URI,
      database: v.MONGODB_DB,
      maxPoolSize: v.MONGODB_MAX_POOL_SIZE,
      serverSelectionTimeoutMs: v.MONGODB_SERVER_SELECTION_TIMEOUT_MS,
      transactionTimeoutMs: v.MONGODB_TRANSACTION_TIMEOUT_MS,
      events: v.EVENT_BUS_NAME !== undefined,
    } satisfies MongoSettings,
    /** `http` (PAYMENT_API_URL) or `sandbox` (the built-in fake); see gatewayProblems. */
    paymentGateway: v.PAYMENT_GATEWAY ?? (v.PAYMENT_API_URL !== undefined || !local ? 'http' : 'sandbox'),
    payment: {
      apiUrl: v.PAYMENT_API_URL,
      apiKey: v.PAYMENT_API_KEY,
      timeoutMs: v.PAYMENT_TIMEOUT_MS,
      maxRetries: v.PAYMENT_MAX_RETRIES,
      circuitThreshold: v.PAYMENT_CIRCUIT_THRESHOLD,
      circuitHalfOpenMs: v.PAYMENT_CIRCUIT_HALF_OPEN_MS,
    } satisfies HttpPaymentGatewayOptions,
    /**
     * With a bus, every store writes an event into its outbox in each change's own atomic
     * step; the handler publishes after its commit (a bounded try, `inlineBudgetMs`) and
     * the scheduled relay sends whatever is left.
     */
    events: v.EVENT_BUS_NAME === undefined ? undefined : {
      publisher: { busName: v.EVENT_BUS_NAME, timeBudgetMs: v.EVENTS_INLINE_BUDGET_MS } satisfies EventBridgePublisherOptions,
      inlineBudgetMs: v.EVENTS_INLINE_BUDGET_MS,
      relayBatchSize: v.EVENTS_RELAY_BATCH_SIZE,
      relayTimeBudgetMs: v.EVENTS_RELAY_TIME_BUDGET_MS,
      leaseMs: v.EVENTS_CLAIM_LEASE_SECONDS * 1000,
    },
    /** Verifies the gateway's Webhook-Signature; undefined: POST /webhooks/payments answers 404. */
    paymentWebhookSecret: v.PAYMENT_WEBHOOK_SECRET,
    reconcile: {
      olderThanMs: v.RECONCILE_OLDER_THAN_SECONDS * 1000,
      batchSize: v.RECONCILE_BATCH_SIZE,
      timeBudgetMs: v.RECONCILE_TIME_BUDGET_MS,
      abandonAfterMs: v.RECONCILE_ABANDON_AFTER_SECONDS * 1000,
    },
    /**
     * Deliberate choices outside STAGE=local that weaken a default; the composition
     * root logs each as a warning at every cold start.
     */
    warnings: local ? [] : stageWarnings(v),
  };
};

const outsideLocal = (v: Values): string => `STAGE=${v.STAGE} (outside ${LOCAL_STAGE})`;

const stageWarnings = (v: Values): string[] => {
  const warnings: string[] = [];
  const storage = v.STORAGE ?? EMBEDDED_DEFAULT;
  if (v.PAYMENT_GATEWAY === 'sandbox') {
    warnings.push(`PAYMENT_GATEWAY=sandbox on ${outsideLocal(v)}: deposits go to the built-in fake gateway, which charges nobody and credits test tokens`);
  }
  if (storage === 'postgres' && v.POSTGRES_SSL === false) warnings.push(`POSTGRES_SSL=false on ${outsideLocal(v)}: PostgreSQL traffic, password included, is not encrypted`);
  if (storage === 'redis' && v.REDIS_TLS === false) warnings.push(`REDIS_TLS=false on ${outsideLocal(v)}: Redis traffic, password included, is not encrypted`);
  return warnings;
};

const gatewayProblems = (v: Values): string[] => {
  const local = v.STAGE === LOCAL_STAGE;
  if (v.PAYMENT_GATEWAY === 'sandbox') {
    return v.PAYMENT_API_URL === undefined ? [] : ['PAYMENT_GATEWAY: sandbox (the built-in fake) and PAYMENT_API_URL exclude each other; unset one'];
  }
  if (v.PAYMENT_API_URL === undefined) {
    if (local && v.PAYMENT_GATEWAY === undefined) return [];
    return [
      local
        ? 'PAYMENT_API_URL: required when PAYMENT_GATEWAY=http'
        : `PAYMENT_API_URL: required on ${outsideLocal(v)}; to use the built-in fake gateway on purpose, set PAYMENT_GATEWAY=sandbox`,
    ];
  }
  const problems: string[] = [];
  if (!v.PAYMENT_API_KEY) problems.push('PAYMENT_API_KEY: required when PAYMENT_API_URL is set');
  if (!local && new URL(v.PAYMENT_API_URL).protocol !== 'https:') problems.push(`PAYMENT_API_URL: must be an https: URL on ${outsideLocal(v)}`);
  return problems;
};

/** Keys that sign or verify (HS256 tokens, cursors, webhooks): neither the committed development secret nor short, outside local. */
const secretProblems = (v: Values): string[] => {
  if (v.STAGE === LOCAL_STAGE) return [];
  const problems: string[] = [];
  for (const name of ['AUTH_JWT_SECRET', 'CURSOR_SECRET', 'PAYMENT_WEBHOOK_SECRET'] as const) {
    const secret = v[name];
    if (secret === undefined) continue;
    if (secret === devDefaults.devJwtSecret) problems.push(`${name}: the committed development secret is refused on ${outsideLocal(v)}`);
    else if (Buffer.byteLength(secret, 'utf8') < MIN_SECRET_BYTES_OUTSIDE_LOCAL) {
      problems.push(`${name}: must be at least ${MIN_SECRET_BYTES_OUTSIDE_LOCAL} bytes on ${outsideLocal(v)}`);
    }
  }
  // The gateway holds the webhook secret: were it the JWT key, the gateway could mint tokens for any user.
  if (v.PAYMENT_WEBHOOK_SECRET !== undefined && v.PAYMENT_WEBHOOK_SECRET === v.AUTH_JWT_SECRET) {
    problems.push(`PAYMENT_WEBHOOK_SECRET: must not be the same as AUTH_JWT_SECRET on ${outsideLocal(v)}`);
  }
  return problems;
};

/**
 * Builds the config from raw settings; throws ConfigError naming every invalid variable.
 * Outside STAGE=local it also refuses what is only safe on a developer's machine
 * (docs/production-safety.md). `requireAuth: false` for tools that verify no token
 * (the migration CLI).
 */
export const parseConfig = (settings: Settings, { requireAuth = true } = {}): Config => {
  const { values: v, problems: invalid } = readSettings(settings);
  if (invalid.length > 0) throw new ConfigError(invalid);
  const problems: string[] = [];
  if (requireAuth && !v.AUTH_JWT_SECRET && !v.AUTH_JWKS_URL) problems.push('AUTH_JWT_SECRET or AUTH_JWKS_URL must be set');
  if (requireAuth && v.AUTH_JWKS_URL && !v.AUTH_JWT_SECRET && !v.CURSOR_SECRET) {
    problems.push('CURSOR_SECRET: required when AUTH_JWKS_URL is the only auth setting (the cursor key is never derived from a public value)');
  }
  if ((v.STORAGE ?? EMBEDDED_DEFAULT) === 'mongodb' && !v.MONGODB_URI) problems.push('MONGODB_URI: required when STORAGE=mongodb');
  if (v.IDEMPOTENCY_LEASE_SECONDS !== undefined && v.IDEMPOTENCY_LEASE_SECONDS < v.FUNCTION_TIMEOUT_SECONDS) {
    problems.push('IDEMPOTENCY_LEASE_SECONDS: must be at least FUNCTION_TIMEOUT_SECONDS, or a request still running could lose its key');
  }
  problems.push(...gatewayProblems(v), ...secretProblems(v));
  if (problems.length > 0) throw new ConfigError(problems);
  const config = toConfig(v);
  // A client may resume a deposit with its key until the key expires; abandoning it
  // earlier could fail a deposit that a late retry then charges.
  if (config.reconcile.abandonAfterMs < config.idempotency.ttlMs + config.idempotency.leaseMs) {
    throw new ConfigError(['RECONCILE_ABANDON_AFTER_SECONDS: must be at least IDEMPOTENCY_TTL_HOURS plus the idempotency lease (IDEMPOTENCY_LEASE_SECONDS, by default FUNCTION_TIMEOUT_SECONDS + 5)']);
  }
  return config;
};

/** The environment of this process; the composition root overlays the app secret. */
export const readEnv = (): Settings => ({ ...process.env });
