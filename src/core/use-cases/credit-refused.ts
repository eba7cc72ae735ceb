import { BalanceOverflow } from '../errors';
import type { Transaction } from '../transaction';

/**
 * The answer when a deposit asked to complete came back failed: the ledger refused a
 * credit the balance could not hold (see Ledger.settle). The message names the deposit.
 */
export const creditRefused = (deposit: Transaction): BalanceOverflow =>
  new BalanceOverflow(`The balance would exceed the maximum it can hold: deposit ${deposit.id} could not be credited and is now failed`);
