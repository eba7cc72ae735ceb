import { InvalidStateTransition, ServiceUnavailable } from '../errors';
import type { Deps } from './deps';

export interface ReconcileOptions {
  /** Only deposits pending for longer than this are looked at. */
  olderThanMs: number;
  /** At most this many per run. */
  batchSize: number;
  /** Stop starting new lookups after this long. */
  timeBudgetMs: number;
  /** A deposit the gateway has never heard of is failed after this long (nothing was charged). */
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
 * Settles deposits whose gateway outcome was pending or unknown. Settling is the
 * ledger's atomic pending → final step, so a racing admin PATCH or second
 * reconciler makes this one lose (InvalidStateTransition), never credit twice.
 */
export const makeReconcileDeposits = ({ ledger, gateway, clock }: Pick<Deps, 'ledger' | 'gateway' | 'clock'>) =>
  async (opts: ReconcileOptions): Promise<ReconcileReport> => {
    const started = clock.nowMs();
    const now = Date.parse(clock.now());
    const report: ReconcileReport = { examined: 0, completed: 0, failed: 0, stillPending: 0, lostRace: 0, errors: 0 };
    const pending = await ledger.listPendingDeposits({
      createdBefore: new Date(now - opts.olderThanMs).toISOString(),
      limit: opts.batchSize,
    });
    for (const tx of pending) {
      if (clock.nowMs() - started > opts.timeBudgetMs) break;
      report.examined++;
      try {
        const result = await gateway.getPaymentStatus({ depositId: tx.id, ...(tx.paymentRef && { paymentRef: tx.paymentRef }) });
        const abandoned = result === null && now - Date.parse(tx.createdAt) > opts.abandonAfterMs;
        if (result?.status === 'pending' || (result === null && !abandoned)) {
          report.stillPending++;
          continue;
        }
        const status = result?.status === 'succeeded' ? 'completed' : 'failed';
        // A credit the balance cannot hold comes back failed (Ledger.settle): counted as what it became.
        const settled = await ledger.settle({ id: tx.id, status, now: clock.now() });
        report[settled.status === 'completed' ? 'completed' : 'failed']++;
      } catch (err) {
        if (err instanceof InvalidStateTransition) report.lostRace++;
        else report.errors++;
        // Circuit open or storage down: the rest would fail the same way; the next run retries.
        if (err instanceof ServiceUnavailable) break;
      }
    }
    return report;
  };
