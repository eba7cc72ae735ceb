// withIdempotency when the store drops out around a request: a claim whose release
// (or whose own reply) was lost must not keep the key "in use" for the lease when
// nothing is processing it any more.
import { makeMemoryLedger } from '../../src/adapters/memory/memory-ledger';
import { createMemoryState } from '../../src/adapters/memory/memory-state';
import { IdempotencyKeyInUse, ServiceUnavailable } from '../../src/core/errors';
import { pendingReleases, withIdempotency, type IdempotencyContext } from '../../src/core/idempotency';
import type { IdempotencyScope, Ledger } from '../../src/core/ports';
import type { Transaction } from '../../src/core/transaction';

const LEASE_MS = 60_000;

/** A memory ledger whose store can be "down": then every call fails as the Redis/PostgreSQL adapters do. */
const flakyLedger = () => {
  const inner = makeMemoryLedger(createMemoryState());
  const state = { down: false, loseClaimReply: false };
  const guard = <A extends unknown[], R>(f: (...a: A) => Promise<R>) => async (...a: A): Promise<R> => {
    if (state.down) throw new ServiceUnavailable('The wallet store is unavailable, try again shortly');
    return f(...a);
  };
  const ledger: Ledger = {
    ...inner,
    claimIdempotency: async (scope, times) => {
      if (state.down) throw new ServiceUnavailable();
      const claim = await inner.claimIdempotency(scope, times);
      // The claim was written, then the connection died before its reply arrived.
      if (state.loseClaimReply) throw new ServiceUnavailable();
      return claim;
    },
    releaseIdempotency: guard(inner.releaseIdempotency.bind(inner)),
    completeIdempotency: guard(inner.completeIdempotency.bind(inner)),
  };
  return { ledger, state };
};

const ctx = (ledger: Ledger): IdempotencyContext => ({ ledger, nowMs: () => Date.now(), now: new Date().toISOString(), leaseMs: LEASE_MS, ttlMs: 86_400_000 });
let tokens = 0;
/** One request with the key: each attempt has its own token, as in the use cases. */
const attempt = (key: string): IdempotencyScope => ({ callerId: 'user-1', key, fingerprint: 'fp', token: `token-${++tokens}` });

const tx = { id: 'tx-1', type: 'withdrawal', status: 'completed', userId: 'user-1', amount: 1, currency: 'USD', metadata: {}, createdAt: '', updatedAt: '' } as Transaction;

const eventually = async (check: () => boolean): Promise<void> => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 25));
  expect(check()).toBe(true);
};

describe('withIdempotency: releases that fail while the store is unreachable', () => {
  it('a retry of the key, after the store answers again, runs instead of meeting 409 until the lease ends', async () => {
    const { ledger, state } = flakyLedger();
    // The first attempt fails with a 5xx and the store goes away before its release.
    await expect(
      withIdempotency(ctx(ledger), attempt('k1'), async () => {
        state.down = true;
        throw new ServiceUnavailable();
      }),
    ).rejects.toBeInstanceOf(ServiceUnavailable);
    state.down = false;
    const retry = await withIdempotency(ctx(ledger), attempt('k1'), async () => tx);
    expect(retry).toEqual({ transaction: tx, replayed: false });
  });

  it('keeps retrying the release in the background, so other processes find the key free too', async () => {
    const { ledger, state } = flakyLedger();
    await expect(
      withIdempotency(ctx(ledger), attempt('k2'), async () => {
        state.down = true;
        throw new ServiceUnavailable();
      }),
    ).rejects.toBeInstanceOf(ServiceUnavailable);
    expect(pendingReleases(ledger)).toBe(1);
    state.down = false;
    await eventually(() => pendingReleases(ledger) === 0);
    // Straight at the ledger, as another process would: the key is free, not in use.
    const times = { now: new Date().toISOString(), leaseUntil: new Date(Date.now() + LEASE_MS).toISOString(), expiresAt: new Date(Date.now() + 86_400_000).toISOString() };
    expect((await ledger.claimIdempotency(attempt('k2'), times)).kind).toBe('claimed');
  });

  it("releases every attempt's orphaned claim, not only the latest one", async () => {
    const { ledger, state } = flakyLedger();
    await expect(
      withIdempotency(ctx(ledger), attempt('k5'), async () => {
        state.down = true;
        throw new ServiceUnavailable();
      }),
    ).rejects.toBeInstanceOf(ServiceUnavailable);
    // A retry while the store is still down fails at its claim, leaving a release of its own to do.
    await expect(withIdempotency(ctx(ledger), attempt('k5'), async () => tx)).rejects.toBeInstanceOf(ServiceUnavailable);
    state.down = false;
    await eventually(() => pendingReleases(ledger) === 0);
    const times = { now: new Date().toISOString(), leaseUntil: new Date(Date.now() + LEASE_MS).toISOString(), expiresAt: new Date(Date.now() + 86_400_000).toISOString() };
    expect((await ledger.claimIdempotency(attempt('k5'), times)).kind).toBe('claimed');
  });

  it('frees a claim whose reply was lost, so the retry is not refused as in use', async () => {
    const { ledger, state } = flakyLedger();
    state.loseClaimReply = true;
    await expect(withIdempotency(ctx(ledger), attempt('k3'), async () => tx)).rejects.toBeInstanceOf(ServiceUnavailable);
    state.loseClaimReply = false;
    await expect(withIdempotency(ctx(ledger), attempt('k3'), async () => tx)).resolves.toEqual({ transaction: tx, replayed: false });
  });

  it('still answers 409 while another request really holds the key', async () => {
    const { ledger } = flakyLedger();
    let finish: (t: Transaction) => void = () => undefined;
    const first = withIdempotency(ctx(ledger), attempt('k4'), () => new Promise<Transaction>((r) => (finish = r)));
    await new Promise((r) => setImmediate(r));
    await expect(withIdempotency(ctx(ledger), attempt('k4'), async () => tx)).rejects.toBeInstanceOf(IdempotencyKeyInUse);
    finish(tx);
    await expect(first).resolves.toEqual({ transaction: tx, replayed: false });
  });
});
