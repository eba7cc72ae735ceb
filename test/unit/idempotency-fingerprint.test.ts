import fc from 'fast-check';
import { canonicalJson, fingerprint } from '../../src/core/idempotency';
import { canonicalJsonFirst, fingerprintFirst } from '../support/first-definitions';

/** Rebuilds an object with its keys inserted in another order, recursively. */
const reordered = (v: unknown, pick: (keys: string[]) => string[]): unknown => {
  if (Array.isArray(v)) return v.map((x) => reordered(x, pick));
  if (v === null || typeof v !== 'object') return v;
  const o = v as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  // defineProperty: a plain assignment to `__proto__` would set the prototype, not a key.
  for (const k of pick(Object.keys(o))) Object.defineProperty(out, k, { value: reordered(o[k], pick), enumerable: true, writable: true, configurable: true });
  return out;
};

describe('canonicalJson and fingerprint', () => {
  it('does not depend on key order', () => {
    const a = { amount: 100, currency: 'USD', metadata: { b: '2', a: '1' } };
    const b = { metadata: { a: '1', b: '2' }, currency: 'USD', amount: 100 };
    expect(canonicalJson(a)).toBe(canonicalJson(b));
    expect(canonicalJson(a)).toBe('{"amount":100,"currency":"USD","metadata":{"a":"1","b":"2"}}');
    expect(fingerprint('deposit', a)).toBe(fingerprint('deposit', b));
  });

  it('is stable for any JSON value under any key order (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (v) => {
        const reversed = reordered(v, (k) => [...k].reverse());
        const sorted = reordered(v, (k) => [...k].sort());
        return canonicalJson(v) === canonicalJson(reversed) && fingerprint('op', v) === fingerprint('op', sorted);
      }),
      { numRuns: 300 },
    );
  });

  it('produces parseable JSON equal in value to the input', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (v) => {
        expect(JSON.parse(canonicalJson(v))).toEqual(JSON.parse(JSON.stringify(v)));
      }),
      { numRuns: 200 },
    );
  });

  it('ignores undefined fields (an omitted optional field equals an absent one)', () => {
    expect(canonicalJson({ a: 1, metadata: undefined })).toBe(canonicalJson({ a: 1 }));
  });

  it('tells different requests and operations apart', () => {
    const req = { amount: 100, currency: 'USD' };
    expect(fingerprint('deposit', req)).not.toBe(fingerprint('deposit', { ...req, amount: 101 }));
    expect(fingerprint('deposit', req)).not.toBe(fingerprint('withdrawal', req));
    expect(fingerprint('deposit', { amount: '100' })).not.toBe(fingerprint('deposit', { amount: 100 }));
    expect(fingerprint('deposit', { m: { a: 'b' } })).not.toBe(fingerprint('deposit', { m: { 'a': 'c' } }));
    expect(fingerprint('deposit', ['a', 'b'])).not.toBe(fingerprint('deposit', ['b', 'a']));
    // Keys containing quotes cannot be used to make two requests collide.
    expect(canonicalJson({ 'a":1,"b': 2 })).not.toBe(canonicalJson({ a: 1, b: 2 }));
  });

  // Records written by earlier versions hold these fingerprints: a retry after a deploy
  // must still match its own record, so the values can never change.
  it.each([
    ['transfer', { toUserId: 'user-b', amount: 150, currency: 'USD', metadata: { note: 'rent', 'é😀': 'x' } }, 'nwNykSk_XM0FCFfxRfABzPVUjggRIKVisVtN4JwK9mY'],
    ['withdrawal', { amount: 1, currency: 'EUR' }, 'rgNcxVNXfkxpiP5u5PKG_Gs4ndgd1BVMhqvG2GbK6lk'],
    ['deposit', { userId: 'u', amount: 9007199254740991, currency: 'JPY', metadata: { b: '2', a: '1', z: undefined } }, 'FzLPhQcSUFuQKrTzZWleUyDkmq_DWFNe3VZv-4fhmgo'],
    ['hold', [1, 'two', null, { y: true, x: [] }], 'ufTv9-ZRu-FgCwtza_ZgpY4WuV5p90Ht3kpTuZjUZJ0'],
  ])('keeps the fingerprint earlier versions stored (%s)', (operation, request, expected) => {
    expect(fingerprint(operation, request)).toBe(expected);
  });

  it('writes exactly what the first definition wrote, for any JSON value (property)', () => {
    const withUndefined = fc.letrec((tie) => ({
      value: fc.oneof(fc.jsonValue({ maxDepth: 1 }), fc.constant(undefined), fc.array(tie('value'), { maxLength: 4 }),
        fc.dictionary(fc.string({ unit: 'binary' }), tie('value'), { maxKeys: 5 })),
    })).value;
    fc.assert(
      fc.property(fc.string(), fc.oneof(fc.jsonValue({ maxDepth: 4 }), withUndefined), (operation, request) => {
        return canonicalJson(request) === canonicalJsonFirst(request) && fingerprint(operation, request) === fingerprintFirst(operation, request);
      }),
      { numRuns: 500 },
    );
  });
});
