// Decorates the use cases with what operators watch: money that moved (completed,
// first-time movements; replays moved nothing) and the scheduled jobs' reports.
import type { Transaction } from '../core/transaction';
import type { UseCases } from '../core/use-cases';
import { logger } from './logger';
import { recordAmountMoved } from './metrics';

interface Movement { transaction: Transaction; replayed: boolean }

const moving = <A extends unknown[], R extends Movement>(move: (...args: A) => Promise<R>) =>
  async (...args: A): Promise<R> => {
    const result = await move(...args);
    const tx = result.transaction;
    if (!result.replayed && tx.status === 'completed') recordAmountMoved(tx.type, tx.currency, tx.amount);
    return result;
  };

export const instrumentUseCases = (useCases: UseCases): UseCases => ({
  ...useCases,
  createDeposit: moving(useCases.createDeposit),
  createWithdrawal: moving(useCases.createWithdrawal),
  createTransfer: moving(useCases.createTransfer),
  captureHold: moving(useCases.captureHold),
  createRefund: moving(useCases.createRefund),
  reconcileDeposits: async (...args) => {
    const report = await useCases.reconcileDeposits(...args);
    logger.info('reconciled deposits', { ...report });
    return report;
  },
  releaseExpiredHolds: async (limit) => {
    const released = await useCases.releaseExpiredHolds(limit);
    logger.info('released expired holds', { released });
    return released;
  },
  purgeExpiredIdempotency: async (limit) => {
    const purged = await useCases.purgeExpiredIdempotency(limit);
    logger.info('purged expired idempotency keys', { purged });
    return purged;
  },
});
