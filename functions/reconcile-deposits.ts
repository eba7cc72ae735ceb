// Scheduled (every 5 minutes): settles deposits whose gateway outcome was pending or
// unknown, releases a bounded batch of holds past their expiry that nobody touched
// (reads already show them released), then deletes a bounded batch of expired
// idempotency keys. The use cases log their reports (see
// src/observability/instrumented-use-cases.ts).
import { app } from '../src/composition-root';

export const handler = async (): Promise<void> => {
  const { useCases, config } = await app();
  await useCases.reconcileDeposits(config.reconcile);
  await useCases.releaseExpiredHolds(config.reconcile.batchSize * 10);
  await useCases.purgeExpiredIdempotency(config.reconcile.batchSize * 10);
};
