import { MongoServerError, type ClientSession } from 'mongodb';
import { IdempotencyKeyInUse, InsufficientFunds, ServiceUnavailable } from '../../src/core/errors';
import { retryOnDuplicate, runInTransaction, type RetryPolicy, type SessionSource } from '../../src/adapters/mongodb/mongo-transaction';

/**
 * Stands in for the driver's session: withTransaction re-runs the body while it fails
 * with the TransientTransactionError label (like the driver, with no bound of its own
 * short of 120 s), and rethrows anything else.
 */
const fakeClient = () => {
  const state = { sessions: 0, ended: 0, bodies: 0 };
  const client: SessionSource = {
    startSession: () => {
      state.sessions += 1;
      const session = {
        withTransaction: async <T>(fn: (s: ClientSession) => Promise<T>): Promise<T> => {
          for (;;) {
            try {
              state.bodies += 1;
              return await fn(session as unknown as ClientSession);
            } catch (err) {
              if (err instanceof MongoServerError && err.hasErrorLabel('TransientTransactionError')) continue;
              throw err;
            }
          }
        },
        endSession: async () => {
          state.ended += 1;
        },
      };
      return session as unknown as ClientSession;
    },
  };
  return { client, state };
};

const conflict = (): MongoServerError =>
  new MongoServerError({ code: 112, codeName: 'WriteConflict', errmsg: 'WriteConflict', errorLabels: ['TransientTransactionError'] });
const quick: RetryPolicy = { maxAttempts: 5, budgetMs: 60_000, backoffMs: () => 0 };

describe('mongodb transactions', () => {
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
    expect(state).toMatchObject({ sessions: 1, ended: 1 });
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
    expect(state.ended).toBe(1);
  });

  it('gives up once the time budget is spent', async () => {
    const { client } = fakeClient();
    let calls = 0;
    const run = runInTransaction(client, async () => {
      calls += 1;
      throw conflict();
    }, { maxAttempts: 1000, budgetMs: 0, backoffMs: () => 0 });
    await expect(run).rejects.toBeInstanceOf(ServiceUnavailable);
    expect(calls).toBe(1);
  });

  it('does not retry a domain refusal', async () => {
    const { client, state } = fakeClient();
    await expect(runInTransaction(client, async () => { throw new InsufficientFunds(); }, quick)).rejects.toBeInstanceOf(InsufficientFunds);
    expect(state.bodies).toBe(1);
    expect(state.ended).toBe(1);
  });

  it('does not retry a request that no longer holds its idempotency key, nor turn it into ServiceUnavailable', async () => {
    const { client, state } = fakeClient();
    const refused = runInTransaction(client, async () => { throw new IdempotencyKeyInUse(); }, quick);
    await expect(refused).rejects.toBeInstanceOf(IdempotencyKeyInUse);
    expect(state.bodies).toBe(1);
    expect(state.ended).toBe(1);
  });

  it('refuses on the retry when a conflict is followed by a take-over', async () => {
    const { client, state } = fakeClient();
    let calls = 0;
    const run = runInTransaction(client, async () => {
      calls += 1;
      if (calls === 1) throw conflict();
      throw new IdempotencyKeyInUse();
    }, quick);
    await expect(run).rejects.toBeInstanceOf(IdempotencyKeyInUse);
    expect(state.bodies).toBe(2);
  });

  it('treats a duplicate key from a racing upsert as a retryable conflict', async () => {
    const { client } = fakeClient();
    let calls = 0;
    const result = await runInTransaction(client, async () => {
      calls += 1;
      if (calls === 1) await retryOnDuplicate(Promise.reject(new MongoServerError({ code: 11000, errmsg: 'E11000' })));
      return calls;
    }, quick);
    expect(result).toBe(2);
  });
});
