// Scheduled (every 5 minutes): settles deposits whose gateway outcome was pending or
// unknown, then deletes a bounded batch of expired idempotency keys.
import { app } from '../src/composition-root';
import { logger } from '../src/observability/logger';

export const handler = async (): Promise<void> => {
  const { useCases, config } = await app();
  const report = await useCases.reconcileDeposits(config.reconcile);
  logger.info('reconciled deposits', { ...report });
  const purged = await useCases.purgeExpiredIdempotency(config.reconcile.batchSize * 10);
  logger.info('purged expired idempotency keys', { purged });
};
