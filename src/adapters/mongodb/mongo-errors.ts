// What a failed driver call means for the ports: one pure function, unit-tested
// with constructed driver errors. Domain errors raised inside a transaction pass through.
import {
  MongoClientClosedError, MongoError, MongoNetworkError, MongoNotConnectedError, MongoOperationTimeoutError,
  MongoServerClosedError, MongoServerError, MongoServerSelectionError, MongoTopologyClosedError,
} from 'mongodb';
import { ServiceUnavailable, UserExists } from '../../core/errors';

/** Which collection a write was aimed at decides what a duplicate key means. */
export type MongoTarget = 'users' | 'idempotency' | 'ledger';

export type MongoFailure = 'duplicate_key' | 'transient' | 'unavailable' | 'other';

const DUPLICATE_KEY_CODES = new Set([11000, 11001]);

// Server answers that mean "not now" rather than "never": elections, shutdowns,
// timeouts, write conflicts that outlived the retry budget.
const UNAVAILABLE_CODES = new Set([
  6, // HostUnreachable
  7, // HostNotFound
  24, // LockTimeout
  50, // MaxTimeMSExpired
  64, // WriteConcernFailed
  89, // NetworkTimeout
  91, // ShutdownInProgress
  100, // UnsatisfiableWriteConcern
  112, // WriteConflict
  133, // FailedToSatisfyReadPreference
  134, // ReadConcernMajorityNotAvailableYet
  189, // PrimarySteppedDown
  251, // NoSuchTransaction
  262, // ExceededTimeLimit
  9001, // SocketException
  10058, // LegacyNotPrimary
  10107, // NotWritablePrimary
  11600, // InterruptedAtShutdown
  11602, // InterruptedDueToReplStateChange
  13435, // NotPrimaryNoSecondaryOk
  13436, // NotPrimaryOrSecondary
]);

// PoolRequstedRetry (sic, the driver's spelling) marks a call the driver gave up on because its pool was cleared.
const TRANSIENT_LABELS = ['TransientTransactionError', 'UnknownTransactionCommitResult', 'RetryableWriteError', 'PoolRequstedRetry'];

// Driver errors the package does not export (cmap/errors.ts), known by their `name`:
// no connection could be checked out in time (pool full: waitQueueTimeoutMS), or the
// pool was closed under the call (client closing).
const UNAVAILABLE_NAMES = new Set(['MongoWaitQueueTimeoutError', 'MongoPoolClosedError']);

export const isDuplicateKeyError = (err: unknown): boolean =>
  err instanceof MongoServerError && typeof err.code === 'number' && DUPLICATE_KEY_CODES.has(err.code);

/** A write refused by a collection's $jsonSchema validator (server code 121). */
export const isDocumentValidationFailure = (err: unknown): boolean => err instanceof MongoServerError && err.code === 121;

/**
 * A duplicate key on the `_id` index, not on a secondary unique index: from the
 * server's `keyPattern` (4.4+ sends it), else from the index named in the message.
 */
export const isIdDuplicateKeyError = (err: unknown): boolean => {
  if (!isDuplicateKeyError(err)) return false;
  const keyPattern: unknown = (err as MongoServerError).keyPattern;
  if (keyPattern !== null && typeof keyPattern === 'object') {
    const keys = Object.keys(keyPattern);
    return keys.length === 1 && keys[0] === '_id';
  }
  return / index: _id_ /.test((err as MongoServerError).message);
};

export const classifyMongoError = (err: unknown): MongoFailure => {
  if (!(err instanceof MongoError)) return 'other';
  if (isDuplicateKeyError(err)) return 'duplicate_key';
  if (
    err instanceof MongoNetworkError || // includes MongoNetworkTimeoutError and pool-cleared errors
    err instanceof MongoServerSelectionError ||
    err instanceof MongoTopologyClosedError ||
    err instanceof MongoNotConnectedError ||
    err instanceof MongoServerClosedError ||
    err instanceof MongoClientClosedError ||
    err instanceof MongoOperationTimeoutError ||
    UNAVAILABLE_NAMES.has(err.name)
  ) {
    return 'unavailable';
  }
  if (TRANSIENT_LABELS.some((l) => err.hasErrorLabel(l))) return 'transient';
  if (typeof err.code === 'number' && UNAVAILABLE_CODES.has(err.code)) return 'unavailable';
  return 'other';
};

export type Translated =
  /** The idempotency record exists already: the claim goes on to inspect it. */
  | { kind: 'key_taken' }
  | { kind: 'throw'; error: unknown };

export const translateMongoError = (err: unknown, target: MongoTarget): Translated => {
  switch (classifyMongoError(err)) {
    case 'duplicate_key':
      if (target === 'idempotency') return { kind: 'key_taken' };
      if (target === 'users') return { kind: 'throw', error: new UserExists() };
      // A duplicate transaction id is a programming error, not a client's fault.
      return { kind: 'throw', error: err };
    case 'transient':
    case 'unavailable':
      // The driver error rides along as `cause` for the logs; the API never shows it.
      return { kind: 'throw', error: Object.assign(new ServiceUnavailable(), { cause: err }) };
    case 'other':
      return { kind: 'throw', error: err };
  }
};

/** Runs a driver call, rethrowing its failure as the port promises. */
export const guarded = async <T>(target: MongoTarget, run: () => Promise<T>): Promise<T> => {
  try {
    return await run();
  } catch (err) {
    const t = translateMongoError(err, target);
    throw t.kind === 'throw' ? t.error : err;
  }
};
