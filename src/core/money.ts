// Money is an integer number of minor units plus an ISO 4217 code. No float
// ever reaches a balance: amounts are checked to be safe integers at the edge.

export const SUPPORTED_CURRENCIES = ['USD', 'EUR', 'GBP', 'JPY', 'CHF', 'CAD', 'AUD'] as const;
export type Currency = (typeof SUPPORTED_CURRENCIES)[number];

/** Contract maximum for one request (configurable downward by MAX_AMOUNT). */
export const CONTRACT_MAX_AMOUNT = 100_000_000_000;
/** Balances stay exactly representable in every backend (JS number, bigint, Long). */
export const MAX_BALANCE = Number.MAX_SAFE_INTEGER;

export const isCurrency = (v: unknown): v is Currency =>
  typeof v === 'string' && (SUPPORTED_CURRENCIES as readonly string[]).includes(v);

export const isValidAmount = (v: unknown, max = CONTRACT_MAX_AMOUNT): v is number =>
  typeof v === 'number' && Number.isSafeInteger(v) && v >= 1 && v <= max;

export interface Balance {
  currency: Currency;
  /** Spendable now; never includes held money. */
  available: number;
  /** The sum of live (unexpired) holds in this currency. */
  held: number;
}

/**
 * Parses an integer amount that a storage driver returns as a string or bigint
 * (int8 from pg, Long from MongoDB, INCRBY from Redis) without going through a float.
 */
export const parseStoredAmount = (raw: string | number | bigint): number => {
  if (typeof raw === 'string' && !/^\s*-?\d+\s*$/.test(raw)) throw new RangeError('Stored amount is not an integer');
  const big = typeof raw === 'bigint' ? raw : BigInt(typeof raw === 'number' ? checkedInteger(raw) : raw.trim());
  if (big > BigInt(Number.MAX_SAFE_INTEGER) || big < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new RangeError(`Stored amount ${big} is outside the safe integer range`);
  }
  return Number(big);
};

const checkedInteger = (n: number): number => {
  if (!Number.isSafeInteger(n)) throw new RangeError(`Stored amount ${n} is not a safe integer`);
  return n;
};
