// One money movement = one multi-document transaction. session.withTransaction
// retries TransientTransactionError (write conflicts) and UnknownTransactionCommitResult
// on its own, but for up to 120 s and with no pause; a Lambda needs a tighter bound,
// and contending writers need a jittered backoff so they do not collide again at once.
import type { ClientSession, MongoClient, TransactionOptions } from 'mongodb';
import { MongoError } from 'mongodb';
import { ServiceUnavailable } from '../../core/errors';
import { isDuplicateKeyError } from './mongo-errors';

export interface RetryPolicy {
  /** Attempts of the transaction body, the first included. */
  maxAttempts: number;
  /** No new attempt starts after this long. */
  budgetMs: number;
  /** Pause before attempt `n` (n ≥ 2). */
  backoffMs: (attempt: number) => number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 100,
  // Well inside API Gateway's 29 s limit; a ledger this contended answers 503 and the client retries.
  budgetMs: 10_000,
  // Full jitter, doubling from 4 ms up to 256 ms.
  backoffMs: (attempt) => Math.random() * 2 ** Math.min(attempt, 8),
};

export const TRANSACTION_OPTIONS: TransactionOptions = {
  readConcern: { level: 'snapshot' },
  writeConcern: { w: 'majority' },
  readPreference: 'primary',
};

/** The part of MongoClient this needs (a fake stands in for it in unit tests). */
export type SessionSource = Pick<MongoClient, 'startSession'>;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * A duplicate key from an upsert racing another transaction's insert of the same
 * document is a conflict like any other: labelled transient, it is retried.
 */
export const retryOnDuplicate = async <T>(run: Promise<T>): Promise<T> => {
  try {
    return await run;
  } catch (err) {
    if (isDuplicateKeyError(err) && err instanceof MongoError) err.addErrorLabel('TransientTransactionError');
    throw err;
  }
};

export const runInTransaction = async <T>(
  client: SessionSource,
  body: (session: ClientSession) => Promise<T>,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
): Promise<T> => {
  const session = client.startSession();
  const started = Date.now();
  let attempt = 0;
  try {
    return await session.withTransaction(async (s) => {
      attempt += 1;
      if (attempt > 1) {
        // A non-driver error ends withTransaction's loop: the API answers 503 and the client retries later.
        if (attempt > policy.maxAttempts || Date.now() - started >= policy.budgetMs) {
          throw new ServiceUnavailable('The ledger is busy, try again shortly', 1);
        }
        await sleep(policy.backoffMs(attempt));
      }
      return body(s);
    }, TRANSACTION_OPTIONS);
  } finally {
    await session.endSession().catch(() => undefined);
  }
};
