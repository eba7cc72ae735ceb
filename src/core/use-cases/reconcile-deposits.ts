import { ServiceUnavailable } from '../errors';
import type { Deps } from './deps';
import { makeSettleFromGateway } from './settle-from-gateway';

export interface ReconcileOptions {
  /** Only deposits pending for longer than this are looked at. */
  olderThanMs: number;
  /** At most this many per run. */
  batchSize: number;
  /** Stop starting new lookups after this long. */
  timeBudgetMs: number;
  /** A deposit (or refund) the gateway has never heard of is failed after this long (nothing was charged or refunded). */
  abandonAfterMs: number;
}

export interface ReconcileReport {
  examined: number;
  completed: number;
  failed: number;
  stillPending: number;
  lostRace: number;
  errors: number;
}

/**
 * Settles deposits and deposit refunds whose gateway outcome was pending or unknown, each through the
 * shared settle-from-gateway step: a racing admin PATCH, webhook or second reconciler
 * makes this one lose (counted in lostRace), never credit twice.
 */
export const makeReconcileDeposits = (deps: Pick<Deps, 'ledger' | 'gateway' | 'clock'>) => {
  const { ledger, clock } = deps;
  const settleFromGateway = makeSettleFromGateway(deps);
  return async (opts: ReconcileOptions): Promise<ReconcileReport> => {
    const started = clock.nowMs();
    const now = Date.parse(clock.now());
    const report: ReconcileReport = { examined: 0, completed: 0, failed: 0, stillPending: 0, lostRace: 0, errors: 0 };
    // Deposits and deposit refunds: both wait on the gateway, both settle the same way.
    const query = { createdBefore: new Date(now - opts.olderThanMs).toISOString(), limit: opts.batchSize };
    const [deposits, refunds] = await Promise.all([ledger.listPendingDeposits(query), ledger.listPendingRefunds(query)]);
    const pending = [...deposits, ...refunds].sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0)).slice(0, opts.batchSize);
    const abandonCreatedBeforeMs = now - opts.abandonAfterMs;
    for (const tx of pending) {
      if (clock.nowMs() - started > opts.timeBudgetMs) break;
      report.examined++;
      try {
        const { outcome, transaction } = await settleFromGateway(tx, { abandonCreatedBeforeMs });
        // A credit the balance cannot hold comes back failed (Ledger.settle): counted as what it became.
        if (outcome === 'settled') report[transaction.status === 'completed' ? 'completed' : 'failed']++;
        else if (outcome === 'already_settled') report.lostRace++;
        else report.stillPending++;
      } catch (err) {
        report.errors++;
        // Circuit open or storage down: the rest would fail the same way; the next run retries.
        if (err instanceof ServiceUnavailable) break;
      }
    }
    return report;
  };
};
