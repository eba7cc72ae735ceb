// The cold-start factory. Everything is built once per process from config.ts and
// the app secret, behind memoized promises that warm invocations reuse. Only the
// storage driver the stage uses is loaded (and, in a per-storage build, bundled).
import { makeUseCases, type UseCases } from './core/use-cases';
import type { EventPublisher, PaymentGateway } from './core/ports';
import { ServiceUnavailable } from './core/errors';
import { parseConfig, readEnv, type Config, type Settings } from './config';
import type { Storage } from './adapters/storage';
import { systemClock, uuidV7Ids } from './adapters/system/system-clock';
import { isAppSecretError } from './adapters/secrets/app-secret-error';
import { instrumentGateway } from './observability/instrumented-gateway';
import { instrumentLedger } from './observability/instrumented-ledger';
import { instrumentUseCases } from './observability/instrumented-use-cases';
import { logger } from './observability/logger';

/**
 * Replaced by a string literal in scripts/build.mjs ('all' or one storage kind);
 * undefined under jest. Each condition below names it directly so esbuild can fold
 * it at parse time and leave the other drivers' imports out of the bundle (the in-process memory store included).
 */
declare const __WALLET_STORAGE__: string | undefined;
const BUILT_STORAGE = typeof __WALLET_STORAGE__ === 'string' ? __WALLET_STORAGE__ : 'all';

export interface App {
  config: Config;
  storage: Storage;
  gateway: PaymentGateway;
  useCases: UseCases;
}

export const openStorage = async (config: Config): Promise<Storage> => {
  switch (config.storage) {
    case 'memory':
      if (typeof __WALLET_STORAGE__ === 'undefined' || __WALLET_STORAGE__ === 'all' || __WALLET_STORAGE__ === 'memory') return (await import('./adapters/memory')).openMemoryStorage({ events: config.events !== undefined });
      break;
    case 'pglite':
      if (typeof __WALLET_STORAGE__ === 'undefined' || __WALLET_STORAGE__ === 'all' || __WALLET_STORAGE__ === 'pglite') return (await import('./adapters/postgres')).openPgliteStorage(config.pglite);
      break;
    case 'postgres':
      if (typeof __WALLET_STORAGE__ === 'undefined' || __WALLET_STORAGE__ === 'all' || __WALLET_STORAGE__ === 'postgres') return (await import('./adapters/postgres')).openPostgresStorage(config.postgres);
      break;
    case 'redis':
      if (typeof __WALLET_STORAGE__ === 'undefined' || __WALLET_STORAGE__ === 'all' || __WALLET_STORAGE__ === 'redis') return (await import('./adapters/redis')).openRedisStorage(config.redis);
      break;
    case 'mongodb':
      if (typeof __WALLET_STORAGE__ === 'undefined' || __WALLET_STORAGE__ === 'all' || __WALLET_STORAGE__ === 'mongodb') return (await import('./adapters/mongodb')).openMongoStorage(config.mongodb);
      break;
  }
  throw new Error(`STORAGE=${config.storage} is not included in this build (built for ${BUILT_STORAGE})`);
};

export const openPaymentGateway = async (config: Config): Promise<PaymentGateway> => {
  if (config.paymentGateway === 'http') {
    const { makeHttpPaymentGateway } = await import('./adapters/payment-gateway/http-payment-gateway');
    return makeHttpPaymentGateway(config.payment);
  }
  const { makeFakePaymentGateway, sharedFakeGatewayState } = await import('./adapters/payment-gateway/fake-payment-gateway');
  return makeFakePaymentGateway(sharedFakeGatewayState());
};

/** The bus, only when events are on: the SDK client is loaded by nothing else. */
export const openEventPublisher = async (config: Config): Promise<EventPublisher | undefined> => {
  if (!config.events) return undefined;
  const { makeEventBridgePublisher } = await import('./adapters/eventbridge/eventbridge-publisher');
  return makeEventBridgePublisher(config.events.publisher);
};

export const buildApp = async (config: Config): Promise<App> => {
  const [storage, rawGateway, publisher] = await Promise.all([openStorage(config), openPaymentGateway(config), openEventPublisher(config)]);
  if (publisher && !storage.outbox) {
    await storage.close();
    throw new Error(`EVENT_BUS_NAME is set but STORAGE=${config.storage} writes no events`);
  }
  const gateway = instrumentGateway(rawGateway);
  // The log level is known once the config is: set here, for every function.
  logger.setLogLevel(config.logLevel);
  const useCases = instrumentUseCases(makeUseCases({
    ledger: instrumentLedger(storage.ledger),
    users: storage.users,
    health: storage.health,
    gateway,
    clock: systemClock,
    ids: uuidV7Ids,
    ...(storage.outbox && publisher && { outbox: storage.outbox, publisher }),
    limits: {
      maxAmount: config.maxAmount,
      idempotencyLeaseMs: config.idempotency.leaseMs,
      idempotencyTtlMs: config.idempotency.ttlMs,
    },
  }));
  return { config, storage, gateway, useCases };
};

/** Environment, overlaid by the app secret when APP_SECRET_ID is set (cached with a max age). */
export const loadSettings = async (): Promise<Settings> => {
  const env = readEnv();
  const secretId = env.APP_SECRET_ID;
  if (!secretId) return env;
  const { loadAppSecret } = await import('./adapters/secrets/app-secret');
  const maxAge = Number(env.APP_SECRET_MAX_AGE_SECONDS ?? 300);
  try {
    return { ...env, ...(await loadAppSecret(secretId, Number.isFinite(maxAge) ? maxAge : 300)) };
  } catch (err) {
    // Translated here, so the HTTP layer knows only the core's errors. The cause
    // (secret id and reason, never the value) stays for the log.
    if (!isAppSecretError(err)) throw err;
    const unavailable = new ServiceUnavailable('Configuration is temporarily unavailable, try again shortly');
    unavailable.cause = err;
    throw unavailable;
  }
};

/** Every cold start (and rebuild) says out loud which safety defaults this stage turned off. */
const announced = (config: Config): Config => {
  for (const warning of config.warnings) logger.warn(warning);
  return config;
};

let current: { key: string; app: Promise<App> } | undefined;

/**
 * The app for this invocation. Built on the first call; rebuilt (old connections
 * closed) when the settings change, e.g. a rotated password in the app secret.
 * A failed build is not cached, so the next invocation tries again.
 */
export const app = async (): Promise<App> => {
  const settings = await loadSettings();
  const key = JSON.stringify(Object.entries(settings).sort(([a], [b]) => (a < b ? -1 : 1)));
  if (!current || current.key !== key) {
    const previous = current;
    const built = Promise.resolve().then(() => buildApp(announced(parseConfig(settings))));
    const entry = { key, app: built };
    current = entry;
    built.catch(() => {
      if (current === entry) current = undefined;
    });
    if (previous) void previous.app.then((a) => a.storage.close()).catch(() => undefined);
  }
  return current.app;
};

/** For tests: forget the built app and close its connections. */
export const resetApp = async (): Promise<void> => {
  const previous = current;
  current = undefined;
  if (previous) await previous.app.then((a) => a.storage.close()).catch(() => undefined);
};
