// Scheduled (every minute) when events are on: releases holds past their expiry that
// nobody touched (their hold.expired events go out in the same run), publishes what
// the handlers' own tries left in the outbox, then reports the backlog (the alarm
// watches the oldest event's age).
import { app } from '../src/composition-root';
import { eventDetail } from '../src/http/event-detail';

export const handler = async (): Promise<void> => {
  const { useCases, config } = await app();
  if (!config.events) return;
  const { relayBatchSize, relayTimeBudgetMs, leaseMs } = config.events;
  await useCases.releaseExpiredHolds(relayBatchSize);
  await useCases.publishEvents({ batchSize: relayBatchSize, maxBatches: Number.MAX_SAFE_INTEGER, timeBudgetMs: relayTimeBudgetMs, leaseMs, toDetail: eventDetail });
  await useCases.eventBacklog();
};
