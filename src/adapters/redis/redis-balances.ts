import { parseStoredAmount, type Balance, type Currency } from '../../core/money';
import { hashOf } from './redis-calls';
import { heldField } from './redis-keys';

const HELD = heldField('');

/**
 * Balances from the readBalances script's reply: the balances hash (flat field/value
 * list: currency → available, `held:<currency>` → held) and, flat, currency and amount of
 * each hold past its expiry but not yet released, whose money reads as available again.
 */
export const parseBalances = (hash: string[], expired: string[]): Balance[] => {
  const fields = hashOf(hash);
  const back = new Map<string, number>();
  for (let i = 0; i + 1 < expired.length; i += 2) {
    const currency = expired[i] as string;
    back.set(currency, (back.get(currency) ?? 0) + parseStoredAmount(expired[i + 1] as string));
  }
  return Object.entries(fields)
    .filter(([field]) => !field.startsWith(HELD))
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([currency, available]) => {
      const released = back.get(currency) ?? 0;
      const held = parseStoredAmount(fields[heldField(currency)] ?? '0');
      return { currency: currency as Currency, available: parseStoredAmount(available) + released, held: held - released };
    });
};
