// The only reader of process.env. Validated once per cold start; an invalid
// variable fails fast with a message naming it (and never echoing its value).
import * as z from 'zod/mini';
import { CONTRACT_MAX_AMOUNT } from './core/money';

export const STORAGE_KINDS = ['memory', 'pglite', 'postgres', 'redis', 'mongodb'] as const;
export type StorageKind = (typeof STORAGE_KINDS)[number];
/** What `STORAGE` unset means: the durable embedded store. */
export const EMBEDDED_DEFAULT: StorageKind = 'pglite';

/** Raw settings: environment variables, overlaid by the app secret's keys. */
export type Settings = Record<string, string | undefined>;

const bool = z.pipe(z.enum(['true', 'false', '1', '0']), z.transform((v) => v === 'true' || v === '1'));
const int = (min: number, max: number) => z.pipe(z.string().check(z.regex(/^-?\d+$/, 'must be an integer')), z.pipe(z.transform(Number), z.int().check(z.minimum(min), z.maximum(max))));
const optionalString = z.optional(z.string().check(z.minLength(1)));

const schema = z.object({
  STAGE: z._default(z.string(), 'local'),
  STORAGE: z.optional(z.enum(STORAGE_KINDS)),
  DATA_DIR: z._default(z.string(), '.data'),
  MAX_AMOUNT: z._default(int(1, CONTRACT_MAX_AMOUNT), CONTRACT_MAX_AMOUNT),
  LOG_LEVEL: z._default(z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT', 'debug', 'info', 'warn', 'error', 'silent']), 'INFO'),

  AUTH_JWT_SECRET: z.optional(z.string().check(z.minLength(16, 'must be at least 16 characters'))),
  AUTH_JWKS_URL: z.optional(z.url()),
  AUTH_ISSUER: optionalString,
  AUTH_AUDIENCE: optionalString,
  CURSOR_SECRET: z.optional(z.string().check(z.minLength(16, 'must be at least 16 characters'))),

  IDEMPOTENCY_LEASE_SECONDS: z._default(int(1, 3600), 60),
  IDEMPOTENCY_TTL_HOURS: z._default(int(24, 24 * 30), 24),

  POSTGRES_HOST: z._default(z.string(), '127.0.0.1'),
  POSTGRES_PORT: z._default(int(1, 65535), 5432),
  POSTGRES_USER: z._default(z.string(), 'postgres'),
  POSTGRES_PASSWORD: z.optional(z.string()),
  POSTGRES_DB: z._default(z.string(), 'wallet'),
  POSTGRES_SSL: z._default(bool, false),
  POSTGRES_SYNC: z._default(bool, false),
  POSTGRES_POOL_MAX: z._default(int(1, 50), 2),
  POSTGRES_CONNECT_TIMEOUT_MS: z._default(int(100, 60_000), 3000),
  POSTGRES_STATEMENT_TIMEOUT_MS: z._default(int(100, 60_000), 5000),

  REDIS_HOST: z._default(z.string(), '127.0.0.1'),
  REDIS_PORT: z._default(int(1, 65535), 6379),
  REDIS_PASSWORD: z.optional(z.string()),
  REDIS_DB: z._default(int(0, 15), 0),
  REDIS_TLS: z._default(bool, false),
  REDIS_KEY_PREFIX: z._default(z.string(), 'wallet:'),
  REDIS_CONNECT_TIMEOUT_MS: z._default(int(100, 60_000), 3000),
  REDIS_COMMAND_TIMEOUT_MS: z._default(int(100, 60_000), 3000),

  MONGODB_URI: optionalString,
  MONGODB_DB: z._default(z.string(), 'wallet'),
  MONGODB_MAX_POOL_SIZE: z._default(int(1, 100), 5),
  MONGODB_SERVER_SELECTION_TIMEOUT_MS: z._default(int(100, 60_000), 3000),

  PAYMENT_API_URL: z.optional(z.url()),
  PAYMENT_API_KEY: optionalString,
  PAYMENT_TIMEOUT_MS: z._default(int(50, 60_000), 5000),
  PAYMENT_MAX_RETRIES: z._default(int(0, 10), 2),
  PAYMENT_CIRCUIT_THRESHOLD: z._default(int(1, 100), 5),
  PAYMENT_CIRCUIT_HALF_OPEN_MS: z._default(int(100, 600_000), 30_000),

  RECONCILE_OLDER_THAN_SECONDS: z._default(int(0, 86_400), 60),
  RECONCILE_BATCH_SIZE: z._default(int(1, 1000), 100),
  RECONCILE_TIME_BUDGET_MS: z._default(int(100, 900_000), 20_000),
  RECONCILE_ABANDON_AFTER_SECONDS: z._default(int(60, 30 * 86_400), 90_000),

  APP_SECRET_ID: optionalString,
  APP_SECRET_MAX_AGE_SECONDS: z._default(int(0, 86_400), 300),
});

export type Config = ReturnType<typeof toConfig>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

const toConfig = (v: z.infer<typeof schema>) => ({
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
  /** Signs pagination cursors; defaults to a key derived from the JWT secret. */
  cursorSecret: v.CURSOR_SECRET ?? `cursor:${v.AUTH_JWT_SECRET ?? v.AUTH_JWKS_URL ?? 'local'}`,
  idempotency: { leaseMs: v.IDEMPOTENCY_LEASE_SECONDS * 1000, ttlMs: v.IDEMPOTENCY_TTL_HOURS * 3_600_000 },
  postgres: {
    host: v.POSTGRES_HOST,
    port: v.POSTGRES_PORT,
    user: v.POSTGRES_USER,
    password: v.POSTGRES_PASSWORD,
    database: v.POSTGRES_DB,
    ssl: v.POSTGRES_SSL,
    /** Run migrations at start (local use only). */
    runMigrations: v.POSTGRES_SYNC,
    poolMax: v.POSTGRES_POOL_MAX,
    connectTimeoutMs: v.POSTGRES_CONNECT_TIMEOUT_MS,
    statementTimeoutMs: v.POSTGRES_STATEMENT_TIMEOUT_MS,
  },
  redis: {
    host: v.REDIS_HOST,
    port: v.REDIS_PORT,
    password: v.REDIS_PASSWORD,
    db: v.REDIS_DB,
    tls: v.REDIS_TLS,
    keyPrefix: v.REDIS_KEY_PREFIX,
    connectTimeoutMs: v.REDIS_CONNECT_TIMEOUT_MS,
    commandTimeoutMs: v.REDIS_COMMAND_TIMEOUT_MS,
  },
  mongodb: {
    uri: v.MONGODB_URI,
    database: v.MONGODB_DB,
    maxPoolSize: v.MONGODB_MAX_POOL_SIZE,
    serverSelectionTimeoutMs: v.MONGODB_SERVER_SELECTION_TIMEOUT_MS,
  },
  payment: {
    /** Unset: the built-in fake gateway (sandbox tokens). */
    apiUrl: v.PAYMENT_API_URL,
    apiKey: v.PAYMENT_API_KEY,
    timeoutMs: v.PAYMENT_TIMEOUT_MS,
    maxRetries: v.PAYMENT_MAX_RETRIES,
    circuitThreshold: v.PAYMENT_CIRCUIT_THRESHOLD,
    circuitHalfOpenMs: v.PAYMENT_CIRCUIT_HALF_OPEN_MS,
  },
  reconcile: {
    olderThanMs: v.RECONCILE_OLDER_THAN_SECONDS * 1000,
    batchSize: v.RECONCILE_BATCH_SIZE,
    timeBudgetMs: v.RECONCILE_TIME_BUDGET_MS,
    abandonAfterMs: v.RECONCILE_ABANDON_AFTER_SECONDS * 1000,
  },
  appSecret: { id: v.APP_SECRET_ID, maxAgeSeconds: v.APP_SECRET_MAX_AGE_SECONDS },
});

/**
 * Builds the config from raw settings; throws ConfigError naming every invalid variable.
 * `requireAuth: false` for tools that verify no token (the migration CLI).
 */
export const parseConfig = (settings: Settings, { requireAuth = true } = {}): Config => {
  const present = Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined && v !== ''));
  const result = schema.safeParse(present);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const config = toConfig(result.data);
  if (requireAuth && !config.auth.jwtSecret && !config.auth.jwksUrl) {
    throw new ConfigError(['AUTH_JWT_SECRET or AUTH_JWKS_URL must be set']);
  }
  if (config.storage === 'mongodb' && !config.mongodb.uri) throw new ConfigError(['MONGODB_URI: required when STORAGE=mongodb']);
  // A client may resume a deposit with its key until the key expires; abandoning it
  // earlier could fail a deposit that a late retry then charges.
  if (config.reconcile.abandonAfterMs < config.idempotency.ttlMs + config.idempotency.leaseMs) {
    throw new ConfigError(['RECONCILE_ABANDON_AFTER_SECONDS: must be at least IDEMPOTENCY_TTL_HOURS plus IDEMPOTENCY_LEASE_SECONDS']);
  }
  if (config.payment.apiUrl && !config.payment.apiKey) throw new ConfigError(['PAYMENT_API_KEY: required when PAYMENT_API_URL is set']);
  return config;
};

/** The environment of this process; the composition root overlays the app secret. */
export const readEnv = (): Settings => ({ ...process.env });
