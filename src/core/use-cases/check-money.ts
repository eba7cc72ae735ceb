import { InvalidRequest } from '../errors';
import { isCurrency, isValidAmount, type Currency } from '../money';
import type { Deps } from './deps';

/** The core's own guard: the edge validates too, but no float or out-of-range amount gets past here. */
export const checkMoney = (deps: Pick<Deps, 'limits'>, amount: unknown, currency: unknown): { amount: number; currency: Currency } => {
  if (!isValidAmount(amount, deps.limits.maxAmount)) {
    throw new InvalidRequest(`amount must be an integer number of minor units from 1 to ${deps.limits.maxAmount}`, 'amount');
  }
  if (!isCurrency(currency)) throw new InvalidRequest('currency is not supported', 'currency');
  return { amount, currency };
};
