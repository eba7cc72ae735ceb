import { CONTRACT_MAX_AMOUNT, isCurrency, isValidAmount, parseStoredAmount } from '../../src/core/money';

describe('isValidAmount: integer minor units from 1 to the maximum', () => {
  it.each([
    ['1', 1],
    ['1e3 (an integer written with an exponent)', 1e3],
    ['1050', 1050],
    ['the contract maximum 1e11', 1e11],
  ])('accepts %s', (_label, v) => {
    expect(isValidAmount(v)).toBe(true);
  });

  it.each([
    ['0', 0],
    ['-1', -1],
    ['-0', -0],
    ['a float 10.5', 10.5],
    ['a tiny float 0.1 + 0.2', 0.1 + 0.2],
    ['1e11 + 1 (over the contract maximum)', 1e11 + 1],
    ['MAX_SAFE_INTEGER + 2 (an unsafe integer)', Number.MAX_SAFE_INTEGER + 2],
    ['MAX_SAFE_INTEGER', Number.MAX_SAFE_INTEGER],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['the string "100"', '100'],
    ['the string "1e3"', '1e3'],
    ['null', null],
    ['undefined', undefined],
    ['a bigint 100n', 100n],
    ['an object', { amount: 100 }],
    ['true', true],
  ])('rejects %s', (_label, v) => {
    expect(isValidAmount(v)).toBe(false);
  });

  it('honours a lower configured maximum (MAX_AMOUNT)', () => {
    expect(isValidAmount(500, 500)).toBe(true);
    expect(isValidAmount(501, 500)).toBe(false);
    expect(CONTRACT_MAX_AMOUNT).toBe(100_000_000_000);
  });
});

describe('isCurrency', () => {
  it('accepts the contract minimum set and rejects anything else', () => {
    for (const c of ['USD', 'EUR', 'GBP', 'JPY']) expect(isCurrency(c)).toBe(true);
    for (const c of ['usd', 'US', 'USDD', 'XXX', '', ' USD', null, 840]) expect(isCurrency(c)).toBe(false);
  });
});

describe('parseStoredAmount: driver integers without a float in between', () => {
  it('reads the largest safe integer exactly', () => {
    expect(parseStoredAmount('9007199254740991')).toBe(Number.MAX_SAFE_INTEGER);
    expect(parseStoredAmount('-9007199254740991')).toBe(-Number.MAX_SAFE_INTEGER);
  });

  it('refuses a value one past the safe range instead of rounding it', () => {
    expect(() => parseStoredAmount('9007199254740992')).toThrow(RangeError);
    expect(() => parseStoredAmount('-9007199254740992')).toThrow(RangeError);
    expect(() => parseStoredAmount('123456789012345678901234567890')).toThrow(RangeError);
    expect(() => parseStoredAmount(9007199254740992n)).toThrow(RangeError);
  });

  it('reads bigints, numbers and padded strings', () => {
    expect(parseStoredAmount(0n)).toBe(0);
    expect(parseStoredAmount(1050n)).toBe(1050);
    expect(parseStoredAmount(9007199254740991n)).toBe(Number.MAX_SAFE_INTEGER);
    expect(parseStoredAmount(' 12 ')).toBe(12);
    expect(parseStoredAmount('0')).toBe(0);
    expect(parseStoredAmount(42)).toBe(42);
  });

  it('refuses non-integers', () => {
    expect(() => parseStoredAmount(10.5)).toThrow();
    expect(() => parseStoredAmount('10.5')).toThrow();
    expect(() => parseStoredAmount('1e3')).toThrow();
    expect(() => parseStoredAmount('abc')).toThrow();
    expect(() => parseStoredAmount(Number.MAX_SAFE_INTEGER + 2)).toThrow(RangeError);
    expect(() => parseStoredAmount(Number.NaN)).toThrow();
  });
});
