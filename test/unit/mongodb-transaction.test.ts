import { MongoError, MongoNetworkError, MongoServerError, type ClientSession } from 'mongodb';
import { IdempotencyKeyInUse, InsufficientFunds, ServiceUnavailable } from '../../src/core/errors';
import {
  DEFAULT_RETRY_POLICY, retryOnDuplicate, runInTransaction, type RetryPolicy, type SessionSource,
} from '../../src/adapters/mongodb/mongo-transaction';

/** The Lambda function's timeout (serverless.yml): a transaction must answer well before it. */
const FUNCTION_TIMEOUT_MS = 15_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Stands in for the driver's (6.x) session: the core API (startTransaction,
 * commitTransaction, abortTransaction, endSession, which aborts a transaction still
 * open), and withTransaction as the driver's sessions.ts implements it: the body runs
 * again after a TransientTransactionError and the commit again after an
 * UnknownTransactionCommitResult, for up to 120 s, with no pause. `commit` scripts the
 * server's answers to commitTransaction.
 */
const fakeClient = (commit: (n: number) => Promise<void> = async () => undefined) => {
  const state = { sessions: 0, ended: 0, commits: 0, aborts: 0, committed: 0 };
  const client: SessionSource = {
    startSession: () => {
      state.sessions += 1;
      let txn: 'none' | 'open' | 'committing' = 'none';
      const s = {
        startTransaction: () => {
          if (txn === 'open') throw new MongoError('Transaction already in progress');
          txn = 'open';
        },
        inTransaction: () => txn === 'open',
        commitTransaction: async () => {
          txn = 'committing';
          state.commits += 1;
          await commit(state.commits);
          state.committed += 1;
        },
        abortTransaction: async () => {
          state.aborts += 1;
          txn = 'none';
        },
        endSession: async () => {
          if (txn === 'open') await s.abortTransaction();
          state.ended += 1;
        },
        withTransaction: async <T>(fn: (session: ClientSession) => Promise<T>): Promise<T> => {
          const started = Date.now();
          for (;;) {
            s.startTransaction();
            let result: T;
            try {
              result = await fn(s as unknown as ClientSession);
            } catch (err) {
              if (s.inTransaction()) await s.abortTransaction();
              if (err instanceof MongoError && err.hasErrorLabel('TransientTransactionError') && Date.now() - started < 120_000) continue;
              throw err;
            }
            for (;;) {
              try {
                await s.commitTransaction();
                return result;
              } catch (err) {
                if (!(err instanceof MongoError)) throw err;
                if (err.hasErrorLabel('UnknownTransactionCommitResult') && Date.now() - started < 120_000) continue;
                if (err.hasErrorLabel('TransientTransactionError') && Date.now() - started < 120_000) break;
                throw err;
              }
            }
          }
        },
      };
      return s as unknown as ClientSession;
    },
  };
  return { client, state };
};

const conflict = (): MongoServerError =>
  new MongoServerError({ code: 112, codeName: 'WriteConflict', errmsg: 'WriteConflict', errorLabels: ['TransientTransactionError'] });
const steppedDown = (): MongoServerError =>
  new MongoServerError({
    code: 189, codeName: 'PrimarySteppedDown', errmsg: 'Primary stepped down while waiting for replication',
    errorLabels: ['RetryableWriteError', 'UnknownTransactionCommitResult'],
  });
const quick: RetryPolicy = { maxAttempts: 5, timeoutMs: 60_000, backoffMs: () => 0 };

/** Whether and how a promise has settled, readable while simulated time runs. */
const watch = <T>(p: Promise<T>) => {
  const w: { settled: boolean; value?: T; error?: unknown } = { settled: false };
  p.then((value) => Object.assign(w, { settled: true, value }), (error: unknown) => Object.assign(w, { settled: true, error }));
  return w;
};

describe('mongodb transactions', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('retries a write conflict and returns the result of the attempt that committed', async () => {
    const { client, state } = fakeClient();
    let calls = 0;
    const result = await runInTransaction(client, async () => {
      calls += 1;
      if (calls < 3) throw conflict();
      return 'done';
    }, quick);
    expect(result).toBe('done');
    expect(calls).toBe(3);
    expect(state).toMatchObject({ sessions: 1, ended: 1, aborts: 2, committed: 1 });
  });

  it('gives up with ServiceUnavailable after the attempt bound instead of spinning', async () => {
    const { client, state } = fakeClient();
    let calls = 0;
    const run = runInTransaction(client, async () => {
      calls += 1;
      throw conflict();
    }, quick);
    await expect(run).rejects.toBeInstanceOf(ServiceUnavailable);
    expect(calls).toBe(5);
    expect(state).toMatchObject({ ended: 1, committed: 0 });
  });

  it('gives up once the time budget is spent', async () => {
    const { client } = fakeClient();
    let calls = 0;
    const run = runInTransaction(client, async () => {
      calls += 1;
      throw conflict();
    }, { maxAttempts: 1000, timeoutMs: 0, backoffMs: () => 0 });
    await expect(run).rejects.toBeInstanceOf(ServiceUnavailable);
    expect(calls).toBe(1);
  });

  it('does not retry a domain refusal, and aborts rather than commits', async () => {
    const { client, state } = fakeClient();
    let calls = 0;
    await expect(runInTransaction(client, async () => { calls += 1; throw new InsufficientFunds(); }, quick)).rejects.toBeInstanceOf(InsufficientFunds);
    expect(calls).toBe(1);
    expect(state).toMatchObject({ ended: 1, aborts: 1, commits: 0 });
  });

  it('does not retry a request that no longer holds its idempotency key, nor turn it into ServiceUnavailable', async () => {
    const { client, state } = fakeClient();
    let calls = 0;
    const refused = runInTransaction(client, async () => { calls += 1; throw new IdempotencyKeyInUse(); }, quick);
    await expect(refused).rejects.toBeInstanceOf(IdempotencyKeyInUse);
    expect(calls).toBe(1);
    expect(state.ended).toBe(1);
  });

  it('refuses on the retry when a conflict is followed by a take-over', async () => {
    const { client } = fakeClient();
    let calls = 0;
    const run = runInTransaction(client, async () => {
      calls += 1;
      if (calls === 1) throw conflict();
      throw new IdempotencyKeyInUse();
    }, quick);
    await expect(run).rejects.toBeInstanceOf(IdempotencyKeyInUse);
    expect(calls).toBe(2);
  });

  it('retries a commit whose result is unknown without running the body again', async () => {
    const { client, state } = fakeClient(async (n) => { if (n < 3) throw steppedDown(); });
    let calls = 0;
    await expect(runInTransaction(client, async () => { calls += 1; return 'moved'; }, quick)).resolves.toBe('moved');
    expect(calls).toBe(1);
    expect(state).toMatchObject({ commits: 3, committed: 1 });
  });

  it('runs the whole transaction again when the commit fails with a transient error', async () => {
    const { client, state } = fakeClient(async (n) => { if (n === 1) throw conflict(); });
    let calls = 0;
    await expect(runInTransaction(client, async () => { calls += 1; return calls; }, quick)).resolves.toBe(2);
    expect(state).toMatchObject({ commits: 2, committed: 1 });
  });

  it('answers 503 within the function timeout when a commit keeps failing with an unknown result (a primary stepped down, none elected yet)', async () => {
    jest.useFakeTimers();
    // Each try waits for a writable primary (server selection) before failing again.
    const { client, state } = fakeClient(async () => { await sleep(1_000); throw steppedDown(); });
    const run = watch(runInTransaction(client, async () => 'moved', DEFAULT_RETRY_POLICY));

    await jest.advanceTimersByTimeAsync(FUNCTION_TIMEOUT_MS - 1_000);

    expect(run.settled).toBe(true);
    expect(run.error).toBeInstanceOf(ServiceUnavailable);
    expect((run.error as Error).cause).toBeInstanceOf(MongoServerError);
    expect(state.commits).toBeGreaterThan(1); // the commit was retried while time remained
    expect(state.committed).toBe(0);
  });

  it('answers 503 within the function timeout while a call hangs, and ends the session once the call returns', async () => {
    jest.useFakeTimers();
    const { client, state } = fakeClient();
    let calls = 0;
    const run = watch(runInTransaction(client, async () => {
      calls += 1;
      // A socket that stopped answering: the driver fails the call only at socketTimeoutMS.
      await sleep(60_000);
      const timedOut = new MongoNetworkError('connection timed out');
      timedOut.addErrorLabel('TransientTransactionError');
      throw timedOut;
    }, DEFAULT_RETRY_POLICY));

    await jest.advanceTimersByTimeAsync(FUNCTION_TIMEOUT_MS - 1_000);
    expect(run.settled).toBe(true);
    expect(run.error).toBeInstanceOf(ServiceUnavailable);
    expect(state.ended).toBe(0); // the call is still in flight on the session

    await jest.advanceTimersByTimeAsync(60_000);
    expect(calls).toBe(1); // nothing retried after the answer
    expect(state).toMatchObject({ ended: 1, aborts: 1, committed: 0 });
  });

  it('treats a duplicate key on _id from a racing upsert as a retryable conflict', async () => {
    const { client } = fakeClient();
    let calls = 0;
    const result = await runInTransaction(client, async () => {
      calls += 1;
      if (calls === 1) {
        await retryOnDuplicate(Promise.reject(new MongoServerError({
          code: 11000, codeName: 'DuplicateKey', keyPattern: { _id: 1 }, keyValue: { _id: '["u","USD"]' },
          errmsg: 'E11000 duplicate key error collection: wallet.balances index: _id_ dup key: { _id: "[\\"u\\",\\"USD\\"]" }',
        })));
      }
      return calls;
    }, quick);
    expect(result).toBe(2);
  });

  it.each([
    ['with keyPattern', { keyPattern: { userId: 1, currency: 1 }, keyValue: { userId: 'u', currency: 'USD' } }],
    ['named only in the message (older servers)', {}],
  ])('does not retry a duplicate key on a secondary unique index (%s): the same values would collide again', async (_name, fields) => {
    const { client, state } = fakeClient();
    const duplicate = new MongoServerError({
      code: 11000, codeName: 'DuplicateKey', ...fields,
      errmsg: 'E11000 duplicate key error collection: wallet.balances index: userId_currency_unique dup key: { userId: "u", currency: "USD" }',
    });
    let calls = 0;
    const run = runInTransaction(client, async () => {
      calls += 1;
      await retryOnDuplicate(Promise.reject(duplicate));
    }, quick);
    await expect(run).rejects.toBe(duplicate);
    expect(calls).toBe(1);
    expect(duplicate.hasErrorLabel('TransientTransactionError')).toBe(false);
    expect(state).toMatchObject({ aborts: 1, committed: 0 });
  });
});
