// EventPublisher on Amazon EventBridge (PutEvents). Retries are ours, not the SDK's
// (the client makes one attempt per call), so one time budget bounds the whole
// publish(): failed calls and the entries a 200 reports as failed are retried with
// backoff until it runs out, and what is still undelivered then is returned, not thrown.
import { EventBridgeClient, PutEventsCommand, type PutEventsResultEntry } from '@aws-sdk/client-eventbridge';
import { ExponentialBackoff, handleWhen, retry, type IBackoff, type IBackoffFactory } from 'cockatiel';
import type { EventDetail } from '../../core/events';
import type { EventPublisher } from '../../core/ports';
import { logger } from '../../observability/logger';
import { MAX_CALL_BYTES, batchEntries, toEntry, type OutgoingEntry } from './eventbridge-entries';
import { failureName, isRetryableEntryCode, transientReason } from './eventbridge-errors';

export interface EventBridgePublisherOptions {
  busName: string;
  source?: 'wallet';
  /** The whole publish(), retries included; what is undelivered then is returned as failed. */
  timeBudgetMs: number;
  /** One PutEvents call; a slower one is abandoned and retried (default 1000). */
  callTimeoutMs?: number;
  /** First backoff delay; later ones grow exponentially with jitter (default 50). */
  initialDelayMs?: number;
  /** Cap on one backoff delay (default 1000). */
  maxDelayMs?: number;
  /** PutEvents calls in flight at once (default 4). */
  maxConcurrentCalls?: number;
  /** Otherwise the SDK's (AWS_REGION). */
  region?: string;
}

export interface EventBridgePublisher extends EventPublisher {
  /** Frees the client's sockets when the publisher built the client. */
  close(): void;
}

/** A failed call worth another try. */
class TransientCallError extends Error {
  constructor(readonly reason: string) {
    super(`PutEvents call failed: ${reason}`);
  }
}
/** A call that succeeded with some entries failed: those are resent. */
class EntriesFailedError extends Error {}
/** The time budget ran out before this attempt. */
class BudgetSpentError extends Error {}

/** The backoff, never sleeping past the deadline (cockatiel's sleep ignores the abort signal). */
const untilDeadline = (inner: IBackoffFactory<unknown>, deadline: number): IBackoffFactory<unknown> => {
  const step = (b: IBackoff<unknown>): IBackoff<unknown> => ({
    duration: Math.max(0, Math.min(b.duration, deadline - Date.now())),
    next: (ctx) => step(b.next(ctx)),
  });
  return { next: (ctx) => step(inner.next(ctx)) };
};

/** Runs `work` on every item, at most `limit` at once. */
const forEachLimited = async <T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> => {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
};

interface Undelivered {
  ids: string[];
  /** The last failure seen: an entry's ErrorCode or the call's error name. */
  reason: string;
}

export const makeEventBridgePublisher = (
  options: EventBridgePublisherOptions,
  injectedClient?: EventBridgeClient,
): EventBridgePublisher => {
  const target = { busName: options.busName, source: options.source ?? 'wallet' };
  const callTimeoutMs = options.callTimeoutMs ?? 1000;
  const initialDelay = options.initialDelayMs ?? 50;
  const maxDelay = options.maxDelayMs ?? 1000;
  const concurrency = Math.max(1, options.maxConcurrentCalls ?? 4);

  // Built on first use, then reused by warm invocations.
  let client = injectedClient;
  const getClient = (): EventBridgeClient =>
    (client ??= new EventBridgeClient({ maxAttempts: 1, ...(options.region ? { region: options.region } : {}) }));

  /** Sends one batch until every entry is delivered, permanently refused, or the budget is spent. */
  const deliver = async (batch: OutgoingEntry[], deadline: number, budget: AbortSignal): Promise<Undelivered> => {
    let pending = batch;
    const refused: string[] = [];
    let reason = 'none';
    const policy = retry(handleWhen((e) => e instanceof TransientCallError || e instanceof EntriesFailedError), {
      maxAttempts: Number.POSITIVE_INFINITY,
      backoff: untilDeadline(new ExponentialBackoff({ initialDelay, maxDelay }), deadline),
    });
    try {
      await policy.execute(async () => {
        if (budget.aborted || Date.now() >= deadline) throw new BudgetSpentError();
        const signal = AbortSignal.any([budget, AbortSignal.timeout(callTimeoutMs)]);
        let results: PutEventsResultEntry[];
        try {
          ({ Entries: results = [] } = await getClient().send(
            new PutEventsCommand({ Entries: pending.map((p) => p.entry) }), { abortSignal: signal },
          ));
        } catch (error) {
          reason = failureName(error);
          const transient = transientReason(error);
          if (transient) throw new TransientCallError(transient);
          throw error;
        }
        // Results come back in the order of the entries sent.
        const again: OutgoingEntry[] = [];
        pending.forEach((p, i) => {
          const result = results[i];
          if (result && !result.ErrorCode) return;
          reason = result?.ErrorCode ?? 'MissingResult';
          if (isRetryableEntryCode(reason)) again.push(p);
          else refused.push(p.id);
        });
        pending = again;
        if (pending.length > 0) throw new EntriesFailedError();
      }, budget);
      return { ids: refused, reason };
    } catch {
      // Out of budget, or a call error no retry cures (e.g. access denied): the outbox keeps them.
      return { ids: [...refused, ...pending.map((p) => p.id)], reason };
    }
  };

  return {
    async publish(events: EventDetail[]) {
      const deadline = Date.now() + options.timeBudgetMs;
      const budget = AbortSignal.timeout(Math.max(0, options.timeBudgetMs));
      const failed: string[] = [];
      const reasons: Record<string, number> = {};
      const note = (ids: string[], reason: string): void => {
        failed.push(...ids);
        if (ids.length > 0) reasons[reason] = (reasons[reason] ?? 0) + ids.length;
      };

      const entries = events.map((e) => toEntry(e, target));
      // Over EventBridge's limit: never sent, it would fail the whole call.
      note(entries.filter((e) => e.bytes > MAX_CALL_BYTES).map((e) => e.id), 'EntryTooLarge');
      await forEachLimited(batchEntries(entries.filter((e) => e.bytes <= MAX_CALL_BYTES)), concurrency, async (batch) => {
        const { ids, reason } = await deliver(batch, deadline, budget);
        note(ids, reason);
      });

      if (failed.length > 0) logger.warn('Events left unpublished for the next relay run', { count: failed.length, reasons });
      return { failed };
    },
    close() {
      if (!injectedClient) client?.destroy();
      client = injectedClient;
    },
  };
};
