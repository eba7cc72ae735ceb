// One ioredis connection per process, reused by warm Lambda invocations. Built to
// fail soon and recover at once: no offline queue (a command is never kept to run
// later, after its caller gave up), and no resending of commands whose reply was
// lost — a resent script could apply twice; the caller's idempotency key decides
// instead; so commands in flight on a connection that closes fail at once
// (maxRetriesPerRequest 0; otherwise they would hang until the command timeout).
// While the connection is being re-established, a command waits (briefly) for it
// rather than failing, so the first request after Redis answers again succeeds
// instead of meeting a reconnect backoff.
import { Command, Redis, type RedisOptions } from 'ioredis';
import { defineScripts } from './redis-scripts';

/** What STORAGE=redis needs (built by src/config.ts from the REDIS_* variables). */
export interface RedisSettings {
  host: string;
  port: number;
  password?: string | undefined;
  db: number;
  tls: boolean;
  keyPrefix: string;
  connectTimeoutMs: number;
  commandTimeoutMs: number;
  /** Write an event for every change into the outbox (EVENT_BUS_NAME is set). */
  events?: boolean;
}

/** Reconnects forever, backing off to at most 250 ms between attempts (a refused connect costs next to nothing). */
export const reconnectDelayMs = (attempt: number): number => Math.min(25 * 2 ** Math.min(attempt, 10), 250);

/** How long a command waits for a connection being re-established before it fails (then 503). */
export const readyWaitMs = (s: RedisSettings): number => Math.min(s.connectTimeoutMs, 1000);

// Statuses in which the client is on its way back to 'ready' by itself.
const RECONNECTING = new Set(['connecting', 'connect', 'reconnecting', 'close']);

/**
 * Commands issued while the connection is being re-established wait for 'ready' (at
 * most `waitMs`) and are sent then, or rejected at once when it does not come — never
 * queued. The connection's own handshake (auth, select, client, info) goes straight through.
 */
const sendWhenReady = (client: Redis, waitMs: number): void => {
  const send = client.sendCommand.bind(client);
  // One 'ready' listener for all waiting commands, whatever their number.
  const waiting = new Set<() => void>();
  client.on('ready', () => {
    for (const go of [...waiting]) go();
  });
  client.sendCommand = (command: Command, stream?: Parameters<Redis['sendCommand']>[1]) => {
    if (stream || !RECONNECTING.has(client.status) || Command.checkFlag('HANDSHAKE_COMMANDS', command.name)) return send(command, stream);
    // The caller awaits command.promise, which send() settles (or rejects when still not ready).
    const go = (): void => {
      clearTimeout(timer);
      waiting.delete(go);
      send(command);
    };
    const timer = setTimeout(go, waitMs);
    waiting.add(go);
    return command.promise;
  };
};

export const redisOptions = (s: RedisSettings): RedisOptions => ({
  host: s.host,
  port: s.port,
  db: s.db,
  ...(s.password !== undefined && { password: s.password }),
  ...(s.tls && { tls: { servername: s.host } }),
  connectTimeout: s.connectTimeoutMs,
  commandTimeout: s.commandTimeoutMs,
  maxRetriesPerRequest: 0,
  enableOfflineQueue: false,
  autoResendUnfulfilledCommands: false,
  enableReadyCheck: true,
  retryStrategy: reconnectDelayMs,
});

/** A new client with the wallet scripts defined. Its errors surface through commands, so 'error' events are only noted. */
export const createRedisClient = (s: RedisSettings, extra: RedisOptions = {}): Redis => {
  const client = new Redis({ ...redisOptions(s), ...extra });
  client.on('error', () => undefined);
  sendWhenReady(client, readyWaitMs(s));
  defineScripts(client);
  return client;
};

// Each esbuild bundle has its own module scope; globalThis keeps one client per
// connection settings per process. Counted, because the composition root builds the
// next app (same Redis settings, e.g. only a rotated JWT secret) before closing the
// previous one: the shared connection must outlive the first close.
const CLIENTS = Symbol.for('wallet-service.redis-clients');

interface SharedClient {
  client: Redis;
  users: number;
}

// Storages that differ only in what they store (prefix, events) share the connection.
const connectionKey = ({ keyPrefix: _prefix, events: _events, ...s }: RedisSettings): string => JSON.stringify(s);

export interface RedisClientLease {
  client: Redis;
  /** Closes the connection when no other storage uses it. */
  release(): Promise<void>;
}

export const acquireRedisClient = (s: RedisSettings): RedisClientLease => {
  const g = globalThis as { [CLIENTS]?: Map<string, SharedClient> };
  const clients = (g[CLIENTS] ??= new Map());
  const key = connectionKey(s);
  let shared = clients.get(key);
  if (!shared) {
    shared = { client: createRedisClient(s), users: 0 };
    clients.set(key, shared);
  }
  shared.users++;
  const entry = shared;
  let released = false;
  return {
    client: entry.client,
    release: async () => {
      if (released) return;
      released = true;
      if (--entry.users > 0) return;
      if (clients.get(key) === entry) clients.delete(key);
      await closeRedisClient(entry.client);
    },
  };
};

/** Waits until the client is ready, at most `ms`; false when it is not (it keeps reconnecting). */
export const waitUntilReady = (client: Redis, ms: number): Promise<boolean> => {
  if (client.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      client.off('ready', onReady);
      resolve(ok);
    };
    const onReady = (): void => done(true);
    const timer = setTimeout(() => done(false), ms);
    client.on('ready', onReady);
  });
};

/** Closes politely when connected, at once otherwise. */
export const closeRedisClient = async (client: Redis): Promise<void> => {
  if (client.status === 'ready') {
    await client.quit().catch(() => client.disconnect());
  } else {
    client.disconnect();
  }
};
