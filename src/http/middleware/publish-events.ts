// After a request that may have changed money commits (whatever it answered: a 402
// fails a deposit, a 502 leaves one pending), publish what is waiting in the outbox —
// a bounded try, so that events arrive within seconds even where no scheduler runs
// (`npm start`). Whatever this misses, the scheduled relay sends. Never fails the request.
import { logger } from '../../observability/logger';
import { eventDetail } from '../event-detail';
import type { Middleware, MiddyRequest } from './request-context';

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

const publishAfterCommit = async ({ event, context }: Pick<MiddyRequest, 'event' | 'context'>): Promise<void> => {
  const events = context.app?.config.events;
  if (!events || READS.has(event.requestContext?.http?.method ?? 'GET')) return;
  try {
    await context.app?.useCases.publishEvents({
      batchSize: 10,
      maxBatches: 3,
      timeBudgetMs: events.inlineBudgetMs,
      leaseMs: events.leaseMs,
      toDetail: eventDetail,
    });
  } catch (err) {
    logger.warn('events left for the relay', { error: err instanceof Error ? err.name : String(err) });
  }
};

export const publishEvents = (): Middleware => ({
  after: async (request) => publishAfterCommit(request),
  onError: async (request) => publishAfterCommit(request),
});
