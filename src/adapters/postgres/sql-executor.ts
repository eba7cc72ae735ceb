// The seam that lets one ledger implementation run on a pg Pool (STORAGE=postgres)
// and on in-process PGlite (the embedded default): two small executors, one adapter.

/** A raw driver row; mapped to domain types right next to the query that reads it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Row = Record<string, any>;

export interface SqlSession {
  /** One parameterised statement. */
  query<R extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<R[]>;
  /** A script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface QueryOptions {
  /** Safe to send again after a lost connection (a read, or a write that sets a fixed value). */
  idempotent?: boolean;
}

export interface TransactionOptions {
  /**
   * A transaction-level advisory lock (a signed 64-bit integer, in decimal) taken in
   * the BEGIN itself, before the first statement: held until COMMIT or ROLLBACK.
   */
  lock?: string;
  /**
   * A statement without parameters run right after the lock, in the same message (no
   * round trip of its own), in a snapshot taken once the lock is held; its rows are
   * `fn`'s second argument (undefined when no probe ran). Built from integer literals
   * only: it is sent as text.
   */
  probe?: string;
}

/** `lock` when it is a signed 64-bit integer in decimal, the only text ever spliced into SQL; else RangeError. */
export const lockLiteral = (lock: string): string => {
  if (!/^-?\d{1,19}$/.test(lock)) throw new RangeError(`invalid advisory lock ${lock}`);
  return lock;
};

export interface SqlExecutor {
  query<R extends Row = Row>(sql: string, params?: readonly unknown[], options?: QueryOptions): Promise<R[]>;
  /**
   * Runs `fn` inside BEGIN … COMMIT. The executor may run `fn` again on a fresh
   * connection when the attempt is known not to have committed (serialization
   * failure, deadlock, connection lost before COMMIT was sent), so `fn` must only
   * touch the database through its session.
   */
  transaction<T>(fn: (session: SqlSession, probed?: Row[]) => Promise<T>, options?: TransactionOptions): Promise<T>;
  close(): Promise<void>;
}
