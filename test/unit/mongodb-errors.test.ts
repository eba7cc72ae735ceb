import {
  MongoNetworkError, MongoNetworkTimeoutError, MongoParseError, MongoServerError, MongoServerSelectionError,
  MongoTopologyClosedError,
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
