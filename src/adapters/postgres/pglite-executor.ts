// SqlExecutor over in-process PGlite: the durable embedded default. PGlite has a
// single connection, so every statement and transaction waits its turn in one
// promise queue; there are no conflicts to retry and no network to lose.
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { PGlite, type Transaction as PgliteTransaction } from '@electric-sql/pglite';
import type { QueryOptions, Row, SqlExecutor, SqlSession, TransactionOptions } from './sql-executor';

interface SharedInstance {
  db: Promise<PGlite>;
  /** Serialises all work on the single connection. */
  tail: Promise<unknown>;
  refs: number;
}

// Each esbuild bundle carries its own copy of this module; serverless-offline runs
// several bundles in one process, and one data directory must have one owner.
const SHARED = Symbol.for('wallet-service.pglite');
const instances = (): Map<string, SharedInstance> => {
  const g = globalThis as { [SHARED]?: Map<string, SharedInstance> };
  return (g[SHARED] ??= new Map());
};

// int8 as text, so amounts are parsed exactly by parseStoredAmount (PGlite's default is a float).
const INT8_OID = 20;
const open = (dataDir: string): Promise<PGlite> => {
  mkdirSync(dataDir, { recursive: true });
  return PGlite.create(dataDir, { parsers: { [INT8_OID]: (v: string) => v } });
};

const sessionOf = (tx: PgliteTransaction): SqlSession => ({
  query: async <R extends Row>(sql: string, params?: readonly unknown[]) =>
    (await tx.query<R>(sql, params as unknown[] | undefined)).rows,
  exec: async (sql: string) => {
    await tx.exec(sql);
  },
});

/** Opens (or joins) the process-wide PGlite for `dataDir`; close() leaves it open for the other holders. */
export const openPgliteExecutor = (dataDir: string): SqlExecutor => {
  const dir = resolve(dataDir);
  const map = instances();
  let shared = map.get(dir);
  if (!shared || shared.refs === 0) {
    // refs 0: the last holder is closing it; reopen once that close has finished.
    const previous = shared?.tail ?? Promise.resolve();
    const fresh: SharedInstance = { db: previous.then(() => open(dir)), tail: Promise.resolve(), refs: 0 };
    fresh.db.catch(() => {
      if (map.get(dir) === fresh) map.delete(dir);
    });
    map.set(dir, (shared = fresh));
  }
  shared.refs++;
  const instance = shared;
  let closed = false;

  const enqueue = <T>(work: (db: PGlite) => Promise<T>): Promise<T> => {
    const run = instance.tail.then(() => instance.db).then(work);
    instance.tail = run.catch(() => undefined);
    return run;
  };

  return {
    query: <R extends Row>(sql: string, params?: readonly unknown[], _options?: QueryOptions) =>
      enqueue(async (db) => (await db.query<R>(sql, params as unknown[] | undefined)).rows),
    // One connection runs one transaction at a time: an advisory lock would change nothing.
    transaction: <T>(fn: (session: SqlSession, probed?: Row[]) => Promise<T>, options?: TransactionOptions) =>
      enqueue((db) => db.transaction(async (tx) => {
        const probed = options?.probe === undefined ? undefined : (await tx.query<Row>(options.probe)).rows;
        return fn(sessionOf(tx), probed);
      })),
    async close() {
      if (closed) return;
      closed = true;
      if (--instance.refs > 0) return;
      await enqueue(async (db) => db.close());
      if (map.get(dir) === instance) map.delete(dir);
    },
  };
};
