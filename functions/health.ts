import { app } from '../src/composition-root';
import { httpHandler, ok } from '../src/http/http-handler';
import { logger } from '../src/observability/logger';

export const handler = httpHandler({ auth: 'none' }, async ({ requestId }) => {
  try {
    await (await app()).storage.health.ping();
    return ok({ status: 'ok' });
  } catch (err) {
    // Health answers in its own shape instead of the error shape.
    logger.warn('health check failed', { requestId, error: err instanceof Error ? err.name : 'unknown' });
    return { statusCode: 503, body: { status: 'unavailable' }, headers: { 'Retry-After': '5' } };
  }
});
