import { InvalidStateTransition } from '../../src/core/errors';
import {
  assertTransition, compareNewestFirst, isParty, isTransactionId, TRANSACTION_STATUSES,
  type Transaction, type TransactionStatus,
} from '../../src/core/transaction';

describe('assertTransition: only pending → completed | failed', () => {
  const allowed = new Set(['pending→completed', 'pending→failed']);
  const pairs = TRANSACTION_STATUSES.flatMap((from) => TRANSACTION_STATUSES.map((to) => [from, to] as [TransactionStatus, TransactionStatus]));

  it.each(pairs)('%s → %s', (from, to) => {
    if (allowed.has(`${from}→${to}`)) {
      expect(assertTransition(from, to)).toBe(true);
      return;
    }
    let thrown: unknown;
    try {
      assertTransition(from, to);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(InvalidStateTransition);
    expect(thrown).toMatchObject({ code: 'invalid_state_transition', param: 'status' });
  });

  it('refuses the same final status twice (a second PATCH)', () => {
    expect(() => assertTransition('completed', 'completed')).toThrow(InvalidStateTransition);
    expect(() => assertTransition('failed', 'failed')).toThrow(InvalidStateTransition);
  });
});

describe('transaction helpers', () => {
  const tx: Transaction = {
    id: '01890a5d-ac96-774b-bcce-b302099a8057', type: 'transfer', status: 'completed', userId: 'a', toUserId: 'b',
    amount: 1, currency: 'USD', metadata: {}, createdAt: '2024-01-01T00:00:00.000Z', updatedAt: '2024-01-01T00:00:00.000Z',
    paymentRef: 'pay_secret',
  };

  it('knows both parties of a transfer', () => {
    expect(isParty(tx, 'a')).toBe(true);
    expect(isParty(tx, 'b')).toBe(true);
    expect(isParty(tx, 'c')).toBe(false);
  });

  it('accepts UUID v4/v7 ids only', () => {
    expect(isTransactionId('01890a5d-ac96-774b-bcce-b302099a8057')).toBe(true);
    expect(isTransactionId('3f2504e0-4f89-41d3-9a0c-0305e82c3301')).toBe(true);
    for (const bad of ['', 'abc', '3F2504E0-4F89-41D3-9A0C-0305E82C3301', '3f2504e0-4f89-11d3-9a0c-0305e82c3301', "' OR 1=1 --", null, 1]) {
      expect(isTransactionId(bad)).toBe(false);
    }
  });

  it('orders newest first by (createdAt, id)', () => {
    const a = { createdAt: '2024-01-01T00:00:00.000Z', id: 'a' };
    const b = { createdAt: '2024-01-01T00:00:00.000Z', id: 'b' };
    const c = { createdAt: '2024-01-02T00:00:00.000Z', id: '0' };
    expect([a, b, c].sort(compareNewestFirst)).toEqual([c, b, a]);
  });
});
