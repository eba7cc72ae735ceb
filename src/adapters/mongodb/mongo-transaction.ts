// One money movement = one multi-document transaction, run to an explicit deadline.
// session.withTransaction (driver 6.x) retries TransientTransactionError and
// UnknownTransactionCommitResult for up to 120 s with no pause, and its `timeoutMS`
// option is documented as having no effect in this driver line, so during a primary
// step-down it outlives the function. This loop follows the same algorithm with the
// session's core API (startTransaction / commitTransaction / abortTransaction), but
// every attempt, every commit retry and every call in flight is bounded by one
// deadline: past it the request answers 503 instead of the function timing out.
import type { ClientSession, MongoClient, TransactionOptions } from 'mongodb';
import { MongoError } from 'mongodb';
import { ServiceUnavailable } from '../../core/errors';
import { isIdDuplicateKeyError } from './mongo-errors';

export interface RetryPolicy {
  /** Attempts of the transaction body, the first included. */
  maxAttempts: number;
  /** The whole transaction (attempts, pauses, commit and its retries) ends within this long, or answers 503. */
  timeoutMs: number;
  /** Pause before attempt `n` (n ≥ 2), and before the n-th try of a commit whose result is unknown. */
  backoffMs: (attempt: number) => number;
}

/**
 * Like PostgreSQL's statement timeout (5 s): a request makes up to two ledger
 * transactions (a deposit: create, then settle) plus its other calls, all inside
 * the 15 s function timeout.
 */
export const DEFAULT_TRANSACTION_TIMEOUT_MS = 5_000;

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 100,
  timeoutMs: DEFAULT_TRANSACTION_TIMEOUT_MS,
  // Full jitter, doubling from 4 ms up to 256 ms.
  backoffMs: (attempt) => Math.random() * 2 ** Math.min(attempt, 8),
};

/** The default policy with another deadline (the adapter's transaction timeout option). */
export const retryPolicy = (timeoutMs = DEFAULT_TRANSACTION_TIMEOUT_MS): RetryPolicy => ({ ...DEFAULT_RETRY_POLICY, timeoutMs });

export const TRANSACTION_OPTIONS: TransactionOptions = {
  readConcern: { level: 'snapshot' },
  writeConcern: { w: 'majority' },
  readPreference: 'primary',
};

/** The part of MongoClient this needs (a fake stands in for it in unit tests). */
export type SessionSource = Pick<MongoClient, 'startSession'>;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const hasLabel = (err: unknown, label: string): boolean => err instanceof MongoError && err.hasErrorLabel(label);

/** A commit that ran out of server time is not retried (the driver's rule too): its outcome stays unknown. */
const isMaxTimeExpired = (err: unknown): boolean =>
  err instanceof MongoError &&
  (err.code === 50 || (err as { writeConcernError?: { code?: unknown } }).writeConcernError?.code === 50);

/**
 * A duplicate key on `_id` from an upsert racing another transaction's insert of the
 * same document is a conflict like any other: labelled transient, it is retried. A
 * duplicate on a secondary unique index means a document with another `_id` holds
 * those values; retrying cannot change that, so it fails at once.
 */
export const retryOnDuplicate = async <T>(run: Promise<T>): Promise<T> => {
  try {
    return await run;
  } catch (err) {
    if (isIdDuplicateKeyError(err) && err instanceof MongoError) err.addErrorLabel('TransientTransactionError');
    throw err;
  }
};

const busy = (cause: unknown): ServiceUnavailable =>
  Object.assign(new ServiceUnavailable('The ledger is busy, try again shortly', 1), cause === undefined ? {} : { cause });

export const runInTransaction = async <T>(
  client: SessionSource,
  body: (session: ClientSession) => Promise<T>,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
): Promise<T> => {
  const session = client.startSession();
  const deadline = Date.now() + policy.timeoutMs;
  const remaining = (): number => deadline - Date.now();
  let lastError: unknown;
  let expired = false;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      expired = true;
      reject(busy(lastError));
    }, policy.timeoutMs);
  });
  timeout.catch(() => undefined);
  // The call in flight; a session runs one at a time, so it ends only after this settles.
  let inFlight: Promise<unknown> = Promise.resolve();
  const bounded = <R>(call: Promise<R>): Promise<R> => {
    inFlight = call.catch(() => undefined);
    return Promise.race([call, timeout]);
  };

  try {
    for (let attempt = 1; ; attempt++) {
      if (attempt > 1) {
        const pause = policy.backoffMs(attempt);
        // A non-driver error: the API answers 503 and the client retries later.
        if (attempt > policy.maxAttempts || remaining() <= pause) throw busy(lastError);
        await sleep(pause);
        if (expired) throw busy(lastError);
      }
      // The server stops waiting for the commit's majority acknowledgement at the deadline too.
      session.startTransaction({ ...TRANSACTION_OPTIONS, maxCommitTimeMS: Math.max(1, Math.ceil(remaining())) });
      let result: T;
      try {
        result = await bounded(body(session));
      } catch (err) {
        if (expired) throw err;
        if (session.inTransaction()) await bounded(session.abortTransaction()).catch((e: unknown) => { if (expired) throw e; });
        if (hasLabel(err, 'TransientTransactionError')) {
          lastError = err;
          continue;
        }
        throw err;
      }
      for (let commit = 1; ; commit++) {
        try {
          await bounded(session.commitTransaction());
          return result;
        } catch (err) {
          if (expired) throw err;
          lastError = err;
          if (hasLabel(err, 'UnknownTransactionCommitResult') && !isMaxTimeExpired(err)) {
            const pause = policy.backoffMs(commit + 1);
            if (remaining() <= pause) throw busy(err);
            await sleep(pause);
            if (expired) throw busy(err);
            continue;
          }
          if (hasLabel(err, 'TransientTransactionError')) break; // the whole transaction again
          throw err;
        }
      }
    }
  } finally {
    clearTimeout(timer);
    // Ending the session aborts a transaction still open. After the deadline the call in
    // flight may still be waiting on the server: the session ends once it settles,
    // without holding up the answer.
    const end = inFlight.then(() => session.endSession()).catch(() => undefined);
    if (!expired) await end;
  }
};
