import type { Ledger } from '../core/ports';
import { logger } from './logger';

/**
 * Decorates any Ledger so that operators hear of a deposit the gateway charged but the
 * ledger could not credit (the balance would pass its maximum; the deposit is failed
 * instead): that money has to be refunded by hand.
 */
export const instrumentLedger = (ledger: Ledger): Ledger => {
  const settle: Ledger['settle'] = async (input, idem) => {
    const settled = await ledger.settle(input, idem);
    if (input.status === 'completed' && settled.status === 'failed') {
      logger.error('deposit charged but not credited: the balance would exceed its maximum; the deposit is failed and needs a refund', {
        depositId: settled.id,
        userId: settled.userId,
        amount: settled.amount,
        currency: settled.currency,
      });
    }
    return settled;
  };
  // Everything else is looked up on the ledger itself at call time (its prototype), not copied.
  return Object.assign(Object.create(ledger) as Ledger, { settle });
};
