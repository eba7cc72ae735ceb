import {
  MongoError, MongoNetworkError, MongoNetworkTimeoutError, MongoParseError, MongoServerError, MongoServerSelectionError,
  MongoTopologyClosedError, MongoWriteConcernError,
} from 'mongodb';
import { IdempotencyKeyInUse, InsufficientFunds, ServiceUnavailable, UserExists } from '../../src/core/errors';
import { classifyMongoError, guarded, translateMongoError } from '../../src/adapters/mongodb/mongo-errors';

const duplicateKey = (): MongoServerError =>
  new MongoServerError({ code: 11000, codeName: 'DuplicateKey', errmsg: 'E11000 duplicate key error collection: wallet.x index: _id_' });
const writeConflict = (): MongoServerError =>
  new MongoServerError({ code: 112, codeName: 'WriteConflict', errmsg: 'WriteConflict', errorLabels: ['TransientTransactionError'] });
// The reason is the driver's TopologyDescription; its details do not matter here.
const selectionTimeout = (): MongoServerSelectionError =>
  new MongoServerSelectionError('Server selection timed out after 3000 ms', { type: 'Unknown', servers: new Map() } as never);

// The driver's connection-pool errors are not exported from the package; these are its own classes.
const poolErrors = require('mongodb/lib/cmap/errors') as {
  WaitQueueTimeoutError: new (message: string, address: string) => MongoError;
  PoolClosedError: new (pool: { address: string }) => MongoError;
  PoolClearedError: new (pool: { address: string }, message?: string) => MongoError;
};
const writeConcernError = (code: number, codeName: string): MongoWriteConcernError =>
  new MongoWriteConcernError({ ok: 1, writeConcernError: { code, codeName, errmsg: codeName } } as never);

describe('mongodb error translation', () => {
  it('turns a duplicate key on users into UserExists', () => {
    const t = translateMongoError(duplicateKey(), 'users');
    expect(t.kind === 'throw' && t.error).toBeInstanceOf(UserExists);
  });

  it('turns a duplicate key on the idempotency collection into "inspect the existing record"', () => {
    expect(translateMongoError(duplicateKey(), 'idempotency')).toEqual({ kind: 'key_taken' });
  });

  it('leaves a duplicate key elsewhere as the raw error (a bug, answered 500)', () => {
    const err = duplicateKey();
    expect(translateMongoError(err, 'ledger')).toEqual({ kind: 'throw', error: err });
  });

  it.each([
    ['MongoNetworkError', () => new MongoNetworkError('connection reset')],
    ['MongoNetworkTimeoutError', () => new MongoNetworkTimeoutError('timed out')],
    ['MongoServerSelectionError', selectionTimeout],
    ['MongoTopologyClosedError', () => new MongoTopologyClosedError()],
    ['a primary stepping down', () => new MongoServerError({ code: 189, codeName: 'PrimarySteppedDown', errmsg: 'stepped down' })],
    ['a write conflict that outlived the retries', writeConflict],
    ['an unknown commit result', () => new MongoServerError({ code: 50, errmsg: 'x', errorLabels: ['UnknownTransactionCommitResult'] })],
    ['WaitQueueTimeoutError (no pooled connection free in time)', () => new poolErrors.WaitQueueTimeoutError('Timed out while checking out a connection from connection pool', 'h:27017')],
    ['PoolClosedError (the client closed under the call)', () => new poolErrors.PoolClosedError({ address: 'h:27017' })],
    ['PoolClearedError (the pool was cleared after a network error)', () => new poolErrors.PoolClearedError({ address: 'h:27017' }, 'cleared')],
    ['a write concern timeout', () => writeConcernError(64, 'WriteConcernFailed')],
    ['an unsatisfiable write concern (too few members up)', () => writeConcernError(100, 'UnsatisfiableWriteConcern')],
    ['a majority read concern not available yet', () => new MongoServerError({ code: 134, codeName: 'ReadConcernMajorityNotAvailableYet', errmsg: 'x' })],
    ['a legacy not-primary answer', () => new MongoServerError({ code: 10058, codeName: 'LegacyNotPrimary', errmsg: 'not master' })],
    ['no server matching the read preference', () => new MongoServerError({ code: 133, codeName: 'FailedToSatisfyReadPreference', errmsg: 'x' })],
    ['a retryable write error the driver gave up on', () => new MongoServerError({ code: 1, errmsg: 'x', errorLabels: ['RetryableWriteError'] })],
  ])('answers 503 (ServiceUnavailable) for %s, never leaking the driver message', (_name, make) => {
    const err = make();
    const t = translateMongoError(err, 'ledger');
    expect(t.kind).toBe('throw');
    const out = t.kind === 'throw' ? t.error : undefined;
    expect(out).toBeInstanceOf(ServiceUnavailable);
    expect((out as Error).message).not.toContain(err.message);
    expect((out as Error).cause).toBe(err);
  });

  it('classifies the labels withTransaction retries as transient', () => {
    expect(classifyMongoError(writeConflict())).toBe('transient');
    expect(classifyMongoError(new MongoServerError({ code: 251, errmsg: 'x' }))).toBe('unavailable');
    expect(classifyMongoError(duplicateKey())).toBe('duplicate_key');
  });

  it('passes domain errors and unrelated failures through unchanged', () => {
    const domain = new InsufficientFunds();
    expect(translateMongoError(domain, 'ledger')).toEqual({ kind: 'throw', error: domain });
    const parse = new MongoParseError('bad uri');
    expect(classifyMongoError(parse)).toBe('other');
    const validation = new MongoServerError({ code: 121, codeName: 'DocumentValidationFailure', errmsg: 'failed' });
    expect(translateMongoError(validation, 'ledger')).toEqual({ kind: 'throw', error: validation });
  });

  it('guarded() rethrows the translation', async () => {
    await expect(guarded('users', () => Promise.reject(duplicateKey()))).rejects.toBeInstanceOf(UserExists);
    await expect(guarded('ledger', () => Promise.reject(selectionTimeout()))).rejects.toBeInstanceOf(ServiceUnavailable);
    await expect(guarded('ledger', () => Promise.reject(new InsufficientFunds()))).rejects.toBeInstanceOf(InsufficientFunds);
    await expect(guarded('ledger', async () => 42)).resolves.toBe(42);
    // A request that no longer holds its key is refused as such, never as 503.
    for (const target of ['ledger', 'idempotency'] as const) {
      const refused = guarded(target, () => Promise.reject(new IdempotencyKeyInUse()));
      await expect(refused).rejects.toBeInstanceOf(IdempotencyKeyInUse);
      await expect(refused).rejects.not.toBeInstanceOf(ServiceUnavailable);
    }
  });
});
