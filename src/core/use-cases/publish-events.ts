import type { EventDetail, WalletEvent } from '../events';
import type { EventPublisher, Outbox } from '../ports';
import type { Deps } from './deps';

export interface PublishOptions {
  /** Events claimed per batch (a PutEvents call takes 10; the publisher splits). */
  batchSize: number;
  /** Stop after this many batches (the inline relay after a request takes one). */
  maxBatches: number;
  /** Stop starting new batches after this long. */
  timeBudgetMs: number;
  /** A claimed batch whose relay died is claimed again after this long. */
  leaseMs: number;
  /** The event as the bus shows it: the resource as the API returns it (the caller's whitelist). */
  toDetail: (event: WalletEvent) => EventDetail;
}

export interface PublishReport {
  published: number;
  /** Left in the outbox for a later run (the bus refused or did not answer in time). */
  failed: number;
  batches: number;
}

/**
 * The outbox relay: claims unpublished events (a concurrent relay skips them), publishes
 * them, and removes what the bus took. What it could not publish stays claimed until
 * the lease runs out, then any relay sends it again: delivery is at least once, and a
 * crash between commit and publish only delays it to the next run.
 */
export const makePublishEvents = ({ clock, ids }: Pick<Deps, 'clock' | 'ids'>, outbox: Outbox, publisher: EventPublisher) =>
  async (opts: PublishOptions): Promise<PublishReport> => {
    const started = clock.nowMs();
    const report: PublishReport = { published: 0, failed: 0, batches: 0 };
    while (report.batches < opts.maxBatches && clock.nowMs() - started < opts.timeBudgetMs) {
      const now = clock.now();
      const token = ids.claimToken();
      const events = await outbox.claimEvents({
        limit: opts.batchSize,
        now,
        leaseUntil: new Date(Date.parse(now) + opts.leaseMs).toISOString(),
        token,
      });
      if (events.length === 0) break;
      report.batches++;
      const { failed } = await publisher.publish(events.map(opts.toDetail));
      const left = new Set(failed);
      const done = events.map((e) => e.id).filter((id) => !left.has(id));
      if (done.length > 0) await outbox.ackEvents(done, token);
      report.published += done.length;
      report.failed += left.size;
      // The bus is refusing: the rest would fare no better now.
      if (left.size > 0 || events.length < opts.batchSize) break;
    }
    return report;
  };
