import { InvalidRequest } from '../../src/core/errors';
import {
  captureBody, createUserBody, depositBody, holdBody, listHoldsQuery, listQuery, refundBody, transferBody, updateTransactionBody, voidBody, withdrawalBody,
} from '../../src/http/schemas';
import { parseWith } from '../../src/http/validation';

/** The param of the InvalidRequest thrown for `input`. */
const paramOf = (schema: Parameters<typeof parseWith>[0], input: unknown): string | undefined => {
  try {
    parseWith(schema, input);
  } catch (e) {
    if (e instanceof InvalidRequest) return e.param;
    throw e;
  }
  throw new Error(`accepted ${JSON.stringify(input)}`);
};

const deposit = { amount: 1050, currency: 'USD' };
const meta = (n: number): Record<string, string> => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v']));

describe('request schemas', () => {
  it('accept valid bodies', () => {
    expect(parseWith(depositBody, { ...deposit, paymentToken: 'tok_ok', metadata: meta(20) })).toMatchObject(deposit);
    expect(parseWith(withdrawalBody, { amount: 1, currency: 'JPY' })).toEqual({ amount: 1, currency: 'JPY' });
    expect(parseWith(transferBody, { toUserId: 'auth0|bob', amount: 100_000_000_000, currency: 'EUR' })).toMatchObject({ toUserId: 'auth0|bob' });
    expect(parseWith(createUserBody, { email: 'ada@example.com', name: 'Ada' })).toEqual({ email: 'ada@example.com', name: 'Ada' });
    expect(parseWith(updateTransactionBody, { status: 'completed' })).toEqual({ status: 'completed' });
    expect(parseWith(listQuery, { limit: '100', type: 'deposit', status: 'pending' })).toEqual({ limit: 100, type: 'deposit', status: 'pending' });
  });

  it.each(['userId', 'status', 'balance', 'id', '__proto__x', 'constructor'])('names an unknown field %s (no mass assignment)', (field) => {
    expect(paramOf(depositBody, { ...deposit, [field]: 'x' })).toBe(field);
    expect(paramOf(withdrawalBody, { ...deposit, [field]: 'x' })).toBe(field);
    expect(paramOf(transferBody, { ...deposit, toUserId: 'b', [field]: 'x' })).toBe(field);
    expect(paramOf(createUserBody, { email: 'a@example.com', name: 'A', [field]: 'x' })).toBe(field);
  });

  it('names an unknown field of PATCH', () => {
    for (const field of ['amount', 'userId', 'balance', 'id', 'type']) expect(paramOf(updateTransactionBody, { status: 'completed', [field]: 1 })).toBe(field);
  });

  it.each([1.5, 0, -1, '100', null, 1e11 + 1, Number.MAX_SAFE_INTEGER + 2, true, [100], { v: 1 }])('names amount for %p', (amount) => {
    expect(paramOf(depositBody, { ...deposit, amount })).toBe('amount');
    expect(paramOf(withdrawalBody, { ...deposit, amount })).toBe('amount');
    expect(paramOf(transferBody, { ...deposit, toUserId: 'b', amount })).toBe('amount');
  });

  it('names amount when it is missing and currency when it is bad', () => {
    expect(paramOf(depositBody, { currency: 'USD' })).toBe('amount');
    for (const currency of ['usd', 'XXX', '', 840, null]) expect(paramOf(depositBody, { ...deposit, currency })).toBe('currency');
  });

  it('names metadata.<key> for a bad metadata value', () => {
    expect(paramOf(depositBody, { ...deposit, metadata: { orderId: 5 } })).toBe('metadata.orderId');
    expect(paramOf(depositBody, { ...deposit, metadata: { note: 'x'.repeat(501) } })).toBe('metadata.note');
    expect(paramOf(withdrawalBody, { ...deposit, metadata: { nested: { a: 'b' } } })).toBe('metadata.nested');
    expect(paramOf(updateTransactionBody, { metadata: { flag: null } })).toBe('metadata.flag');
  });

  it('names metadata for more than 20 keys, a non-object, or a bad key', () => {
    expect(paramOf(depositBody, { ...deposit, metadata: meta(21) })).toBe('metadata');
    expect(paramOf(updateTransactionBody, { metadata: meta(21) })).toBe('metadata');
    expect(paramOf(depositBody, { ...deposit, metadata: ['a'] })).toBe('metadata');
    expect(paramOf(depositBody, { ...deposit, metadata: 'a=b' })).toBe('metadata');
    expect(paramOf(depositBody, { ...deposit, metadata: { ['k'.repeat(41)]: 'v' } })).toMatch(/^metadata(\.k{41})?$/);
  });

  it('validates email and name of POST /users', () => {
    expect(paramOf(createUserBody, { email: 'not-an-email', name: 'A' })).toBe('email');
    expect(paramOf(createUserBody, { email: `${'a'.repeat(250)}@example.com`, name: 'A' })).toBe('email');
    expect(paramOf(createUserBody, { email: 'a@example.com', name: '' })).toBe('name');
    expect(paramOf(createUserBody, { email: 'a@example.com', name: 'n'.repeat(101) })).toBe('name');
    expect(paramOf(createUserBody, { email: 'a@example.com' })).toBe('name');
  });

  it.each(['0', '101', 'abc', '1.5', '-1', '', ' 5', '1e2', '0x10', '0100'])('names limit for limit=%j', (limit) => {
    expect(paramOf(listQuery, { limit })).toBe('limit');
  });

  it('names the query parameter for bad type/status and unknown parameters', () => {
    expect(paramOf(listQuery, { type: 'hold' })).toBe('type');
    expect(paramOf(listQuery, { status: 'done' })).toBe('status');
    expect(paramOf(listQuery, { foo: 'bar' })).toBe('foo');
    expect(paramOf(listQuery, { cursor: '' })).toBe('cursor');
  });
});

describe('holds and refunds', () => {
  const hold = { amount: 250, currency: 'USD' };

  it('accept valid bodies and queries', () => {
    expect(parseWith(listQuery, { type: 'refund' })).toEqual({ type: 'refund' });
    expect(parseWith(holdBody, { ...hold, toUserId: 'auth0|bob', expiresInSeconds: 604_800, metadata: { order: '7' } }))
      .toEqual({ ...hold, toUserId: 'auth0|bob', expiresInSeconds: 604_800, metadata: { order: '7' } });
    expect(parseWith(holdBody, hold)).toEqual(hold);
    expect(parseWith(captureBody, {})).toEqual({});
    expect(parseWith(captureBody, { amount: 1, metadata: {} })).toEqual({ amount: 1, metadata: {} });
    expect(parseWith(voidBody, {})).toEqual({});
    expect(parseWith(refundBody, { amount: 100_000_000_000 })).toEqual({ amount: 100_000_000_000 });
    for (const status of ['held', 'captured', 'voided', 'expired']) expect(parseWith(listHoldsQuery, { status, limit: '5' })).toEqual({ status, limit: 5 });
  });

  it.each([0, -1, 604_801, 1.5, '60', null, true, [60], 1e6])('names expiresInSeconds for %p', (expiresInSeconds) => {
    expect(paramOf(holdBody, { ...hold, expiresInSeconds })).toBe('expiresInSeconds');
  });

  it.each([1.5, 0, -1, '100', null, 1e11 + 1])('names amount for %p on a hold, a capture and a refund', (amount) => {
    expect(paramOf(holdBody, { ...hold, amount })).toBe('amount');
    expect(paramOf(captureBody, { amount })).toBe('amount');
    expect(paramOf(refundBody, { amount })).toBe('amount');
  });

  it('names toUserId, currency and unknown fields', () => {
    for (const toUserId of ['', 'x'.repeat(256), 5, null]) expect(paramOf(holdBody, { ...hold, toUserId })).toBe('toUserId');
    expect(paramOf(holdBody, { amount: 1, currency: 'usd' })).toBe('currency');
    expect(paramOf(holdBody, { amount: 1 })).toBe('currency');
    for (const field of ['userId', 'status', 'expiresAt', 'capturedAmount', 'id']) {
      expect(paramOf(holdBody, { ...hold, [field]: 'x' })).toBe(field);
      expect(paramOf(captureBody, { [field]: 'x' })).toBe(field);
      expect(paramOf(voidBody, { [field]: 'x' })).toBe(field);
      expect(paramOf(refundBody, { [field]: 'x' })).toBe(field);
    }
    expect(paramOf(voidBody, { amount: 1 })).toBe('amount');
    expect(paramOf(captureBody, { metadata: { k: 1 } })).toBe('metadata.k');
  });

  it('names the holds listing parameter at fault', () => {
    expect(paramOf(listHoldsQuery, { status: 'pending' })).toBe('status');
    expect(paramOf(listHoldsQuery, { type: 'deposit' })).toBe('type');
    expect(paramOf(listHoldsQuery, { limit: '0' })).toBe('limit');
    expect(paramOf(listHoldsQuery, { cursor: '' })).toBe('cursor');
  });
});

describe('metadata keys', () => {
  it('refuses a __proto__ key instead of dropping it', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { depositBody } = require('../../src/http/schemas') as typeof import('../../src/http/schemas');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { parseWith } = require('../../src/http/validation') as typeof import('../../src/http/validation');
    const body: unknown = JSON.parse('{"amount":1,"currency":"USD","metadata":{"__proto__":"x"}}');
    expect(() => parseWith(depositBody, body)).toThrow(expect.objectContaining({ code: 'invalid_request', param: expect.stringMatching(/^metadata/) }));
  });
});

describe('deeply nested bodies', () => {
  it('are refused with a 400, not a stack overflow', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { depositBody } = require('../../src/http/schemas') as typeof import('../../src/http/schemas');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { parseWith } = require('../../src/http/validation') as typeof import('../../src/http/validation');
    const depth = 100_000;
    const body: unknown = JSON.parse(`{"amount":1,"currency":"USD","metadata":{"k":${'['.repeat(depth)}${']'.repeat(depth)}}}`);
    expect(() => parseWith(depositBody, body)).toThrow(expect.objectContaining({ code: 'invalid_request' }));
  });
});

describe('hostile strings: NUL and unpaired surrogates are refused naming the field', () => {
  it.each([
    [createUserBody, { email: 'a@example.com', name: 'A\u0000' }, 'name'],
    [createUserBody, { email: 'a@example.com', name: '\uD83D' }, 'name'],
    [depositBody, { amount: 1, currency: 'USD', metadata: { k: 'v\uDE00' } }, 'metadata.k'],
    [depositBody, { amount: 1, currency: 'USD', metadata: { 'k\u0000': 'v' } }, 'metadata'],
    [depositBody, { amount: 1, currency: 'USD', paymentToken: 'tok\u0000' }, 'paymentToken'],
    [transferBody, { toUserId: 'b\uDBFF', amount: 1, currency: 'USD' }, 'toUserId'],
    [updateTransactionBody, { metadata: { a: '\uDC00\uD800' } }, 'metadata.a'],
  ] as const)('%#: param %s', (schema, input, param) => {
    expect(paramOf(schema, input)).toBe(param);
  });

  it('keeps real characters, surrogate pairs included', () => {
    expect(parseWith(createUserBody, { email: 'a@example.com', name: 'Zoë 😀 漢字' }).name).toBe('Zoë 😀 漢字');
  });
});

describe('JSON number literals', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { exactNumbers, isIntegralLiteral } = require('../../src/http/json-numbers') as typeof import('../../src/http/json-numbers');

  it.each(['1', '0', '-0', '100.0', '1e2', '1E+2', '1.5e1', '0.2e2', '2.50e1', '0.0', '0e-5', '123456789012345678901234567890', '1.0000000000e10'])('%s is an integer', (l) => {
    expect(isIntegralLiteral(l)).toBe(true);
  });

  it.each(['1.5', '0.99999999999999999', '1.00000000000000001', '1e-1', '1e-400', '10000000000000000001e-19', '1.0000000000000000000001e2'])('%s is not', (l) => {
    expect(isIntegralLiteral(l)).toBe(false);
  });

  it('rewrites only literals that JSON.parse would round to an integer, never inside strings', () => {
    const text = '{"amount":1.00000000000000001,"a":"1.00000000000000001","b":[1e2,1.5,0.99999999999999999]}';
    expect(JSON.parse(exactNumbers(text))).toEqual({ amount: 0.5, a: '1.00000000000000001', b: [100, 1.5, 0.5] });
    expect(exactNumbers('{"a":"\\"1.00000000000000001"}')).toBe('{"a":"\\"1.00000000000000001"}');
  });

  it('leaves invalid JSON invalid', () => {
    for (const bad of ['01.00000000000000001', '{"amount":1.00000000000000001', '1.00000000000000001.0']) {
      expect(() => JSON.parse(exactNumbers(bad))).toThrow();
    }
  });
});
