// SqlExecutor over a node-postgres Pool, sized and configured for Lambda: one
// small pool per process, short connect timeout, keep-alive, server- and
// client-side statement timeouts, and no session state, so a pooler in
// transaction mode (RDS Proxy, PgBouncer) multiplexes it without pinning: no
// startup parameters beyond user/database/application_name, no session SET, no
// named prepared statements, no session advisory locks, no temp tables.
import { Pool, type PoolClient, type PoolConfig, type QueryResult } from 'pg';
import { isConnectionError, isRetryableConflict, translateError } from './pg-errors';
import { lockLiteral, type QueryOptions, type Row, type SqlExecutor, type SqlSession, type TransactionOptions } from './sql-executor';

/** Attempts per transaction (conflicts, or a connection lost before COMMIT). */
const MAX_ATTEMPTS = 3;

/** What STORAGE=postgres needs (built by src/config.ts from the POSTGRES_* variables). */
export interface PostgresOptions {
  host: string;
  port: number;
  user: string;
  password?: string | undefined;
  database: string;
  /** TLS with certificate verification. */
  ssl: boolean;
  /** Run migrations at start (local use only). */
  runMigrations: boolean;
  poolMax: number;
  connectTimeoutMs: number;
  statementTimeoutMs: number;
  /** Write an event for every change into the outbox (EVENT_BUS_NAME is set). */
  events?: boolean;
}

export const poolConfig = (pg: PostgresOptions): PoolConfig => ({
  host: pg.host,
  port: pg.port,
  user: pg.user,
  password: pg.password,
  database: pg.database,
  ssl: pg.ssl ? { rejectUnauthorized: true } : undefined,
  max: pg.poolMax,
  connectionTimeoutMillis: pg.connectTimeoutMs,
  // Idle sockets of a frozen Lambda die anyway; drop them before the server or a proxy does.
  idleTimeoutMillis: 30_000,
  keepAlive: true,
  keepAliveInitialDelayMillis: 10_000,
  // No statement_timeout startup parameter: poolers in transaction mode refuse it
  // (PgBouncer) or pin on it (RDS Proxy). Transactions set it with SET LOCAL in
  // their BEGIN (beginStatement); every statement also has this client-side bound,
  // which also covers a socket that went silent (the server timeout cannot fire then).
  query_timeout: pg.statementTimeoutMs + 1_000,
  application_name: 'wallet-service',
  allowExitOnIdle: true,
});

/**
 * BEGIN plus the transaction's own timeouts, sent as one simple-query message: no
 * extra round trip, and SET LOCAL ends with the transaction, so the server
 * connection goes back to a pooler clean.
 */
export const beginStatement = (statementTimeoutMs: number): string =>
  `BEGIN; SET LOCAL statement_timeout = ${Math.trunc(statementTimeoutMs)}; ` +
  `SET LOCAL idle_in_transaction_session_timeout = ${Math.trunc(statementTimeoutMs * 2)}`;

/** beginStatement plus the transaction's advisory lock and probe, if any: still one message. */
export const beginWithLock = (begin: string, options: TransactionOptions | undefined): string => {
  const { lock, probe } = options ?? {};
  if (lock === undefined) return probe === undefined ? begin : `${begin}; ${probe}`;
  // A simple-query message takes no parameters: only an integer literal is spliced in.
  return `${begin}; SELECT pg_advisory_xact_lock(${lockLiteral(lock)})${probe === undefined ? '' : `; ${probe}`}`;
};

const backoff = (attempt: number): Promise<void> =>
  new Promise((r) => setTimeout(r, Math.floor(Math.random() * 10 * 2 ** attempt)));

const sessionOf = (client: PoolClient): SqlSession => ({
  query: async <R extends Row>(sql: string, params?: readonly unknown[]) =>
    (await client.query<R>(sql, params as unknown[] | undefined)).rows,
  exec: async (sql: string) => {
    await client.query(sql);
  },
});

export const makePgExecutor = (pool: Pool, statementTimeoutMs = 5_000): SqlExecutor => {
  const begin = beginStatement(statementTimeoutMs);
  /**
   * Idle clients whose server went away while they waited (a failover, a restart,
   * pg_terminate_backend, a proxy's idle timeout) usually go together, and a client
   * learns of it only when its socket is next read: a call may meet several of them
   * in a row before the pool has dropped them. Where a retry is allowed anyway, a
   * connection failure of a client taken from the idle list, on its first message, is
   * retried at once and is not counted as an attempt; the pool destroys each such
   * client, so a call meets at most as many of them as the pool holds.
   */
  const maxStale = pool.options.max ?? 10;
  const diedIdle = (err: unknown, reused: boolean, stale: number): boolean => reused && stale < maxStale && isConnectionError(err);
  // An idle client whose server went away (restart, pg_terminate_backend, proxy
  // idle timeout) emits 'error'; the pool has already dropped it. Without a
  // listener, Node would crash the process.
  pool.on('error', () => undefined);
  // Every client keeps a listener for its whole life. pg-pool's query() listens with
  // once(): a server that terminates a connection (pg_terminate_backend, a fast
  // shutdown) can emit a second 'error' on the same client, and an unhandled one
  // crashes the process. The failure itself still reaches the caller through its query.
  pool.on('connect', (client) => client.on('error', () => undefined));

  return {
    async query<R extends Row>(sql: string, params?: readonly unknown[], options?: QueryOptions): Promise<R[]> {
      let stale = 0;
      for (let attempt = 1; ; attempt++) {
        const reused = pool.idleCount > 0;
        try {
          // pool.query releases a failed client as broken, so it is not reused.
          return (await pool.query<R>(sql, params as unknown[] | undefined)).rows;
        } catch (err) {
          const again = isRetryableConflict(err) || (options?.idempotent === true && isConnectionError(err));
          if (again && diedIdle(err, reused, stale)) {
            stale++;
            attempt--; // not an attempt: see diedIdle
            continue;
          }
          if (again && attempt < MAX_ATTEMPTS) {
            await backoff(attempt);
            continue;
          }
          throw translateError(err);
        }
      }
    },

    async transaction<T>(fn: (session: SqlSession, probed?: Row[]) => Promise<T>, options?: TransactionOptions): Promise<T> {
      const opening = beginWithLock(begin, options);
      let stale = 0;
      for (let attempt = 1; ; attempt++) {
        let client: PoolClient;
        const reused = pool.idleCount > 0;
        try {
          client = await pool.connect();
        } catch (err) {
          // Nothing was sent yet, so trying again cannot apply anything twice.
          if (isConnectionError(err) && attempt < MAX_ATTEMPTS) {
            await backoff(attempt);
            continue;
          }
          throw translateError(err);
        }
        let opened = false;
        let committing = false;
        let broken: Error | undefined;
        // A checked-out client has no pool listener: a socket dying between two of our
        // statements would otherwise be an unhandled 'error' that kills the process.
        const onError = (err: Error): void => void (broken ??= err);
        client.on('error', onError);
        try {
          // Several statements in one message answer one result each; the probe's is the last.
          const begun = (await client.query(opening)) as unknown as QueryResult<Row> | QueryResult<Row>[];
          opened = true;
          const probed = options?.probe === undefined ? undefined : (Array.isArray(begun) ? begun.at(-1)?.rows : begun.rows);
          const result = await fn(sessionOf(client), probed);
          committing = true;
          await client.query('COMMIT');
          return result;
        } catch (err) {
          if (isConnectionError(err)) broken = err as Error;
          else await client.query('ROLLBACK').catch((e: Error) => (broken = e));
          // A connection lost during COMMIT leaves the outcome unknown: never replay it.
          const again = isRetryableConflict(err) || (!committing && broken !== undefined && isConnectionError(err));
          if (again && !opened && diedIdle(err, reused, stale)) {
            stale++;
            attempt--; // not an attempt: see diedIdle
            continue;
          }
          if (again && attempt < MAX_ATTEMPTS) {
            await backoff(attempt);
            continue;
          }
          throw translateError(err);
        } finally {
          client.off('error', onError);
          // A broken client is destroyed instead of going back to the pool.
          client.release(broken);
        }
      }
    },

    close: () => pool.end(),
  };
};

export const openPgExecutor = (options: PostgresOptions): SqlExecutor =>
  makePgExecutor(new Pool(poolConfig(options)), options.statementTimeoutMs);
