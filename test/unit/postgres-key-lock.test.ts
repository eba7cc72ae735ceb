// The pieces of the PostgreSQL key lock that travel as SQL text: only integer literals
// are ever spliced into the BEGIN message, and the lock number is stable and 64-bit.
import { beginWithLock } from '../../src/adapters/postgres/pg-executor';
import { keyLock } from '../../src/adapters/postgres/postgres-ledger';
import { keyTaken } from '../../src/adapters/postgres/postgres-sql';
import { movementAsCreated, type Transaction } from '../../src/core/transaction';

describe('postgres key lock', () => {
  it('is a signed 64-bit decimal, the same for the same (caller, key), different across keys and callers', () => {
    const a = keyLock({ callerId: 'auth0|abc', key: 'k-1' });
    expect(a).toMatch(/^-?\d{1,19}$/);
    expect(BigInt(a)).toBeGreaterThanOrEqual(-(2n ** 63n));
    expect(BigInt(a)).toBeLessThan(2n ** 63n);
    expect(keyLock({ callerId: 'auth0|abc', key: 'k-1' })).toBe(a);
    expect(keyLock({ callerId: 'auth0|abc', key: 'k-2' })).not.toBe(a);
    expect(keyLock({ callerId: 'auth0|abd', key: 'k-1' })).not.toBe(a);
  });

  it('splices only integers into the BEGIN message', () => {
    const begin = 'BEGIN; SET LOCAL statement_timeout = 5000';
    expect(beginWithLock(begin, undefined)).toBe(begin);
    expect(beginWithLock(begin, { lock: '-42', probe: keyTaken('-42') }))
      .toBe(`${begin}; SELECT pg_advisory_xact_lock(-42); SELECT 1 AS taken FROM idempotency_keys WHERE lock_hash = -42 LIMIT 1`);
    for (const bad of ["1; DROP TABLE balances", "1'", '', '1.5', '12345678901234567890']) {
      expect(() => beginWithLock(begin, { lock: bad })).toThrow(RangeError);
      expect(() => keyTaken(bad)).toThrow(RangeError);
    }
  });

  it('rebuilds a movement as it was created: completed, unrefunded, unchanged, with the metadata it was created with', () => {
    const now: Transaction = {
      id: '0190b1e2-7a3c-7000-8000-000000000000', type: 'transfer', status: 'completed', userId: 'a', toUserId: 'b', amount: 40,
      currency: 'USD', metadata: { order: 'edited' }, refundedAmount: 15, createdAt: '2026-12-03T18:00:00.000Z', updatedAt: '2026-12-03T19:00:00.000Z',
    };
    expect(movementAsCreated(now, { order: 'A-1' })).toEqual({ ...now, metadata: { order: 'A-1' }, refundedAmount: 0, updatedAt: now.createdAt });
  });
});
