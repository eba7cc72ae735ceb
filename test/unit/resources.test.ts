// Responses are whitelists: a field the core adds stays internal until a mapper
// names it. (The replay path goes through the same mappers: functions/create-*.ts.)
import type { Transaction } from '../../src/core/transaction';
import type { User } from '../../src/core/user';
import { InsufficientFunds } from '../../src/core/errors';
import type { Hold } from '../../src/core/hold';
import { publicError, publicHealth, publicHold, publicHoldPage, publicPage, publicTransaction, publicUser } from '../../src/http/resources';

const tx: Transaction = {
  id: '018f4c1e-0000-7000-8000-000000000001',
  type: 'transfer',
  status: 'completed',
  userId: 'alice',
  toUserId: 'bob',
  amount: 250,
  currency: 'USD',
  metadata: { order: '42' },
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  paymentRef: 'pay_internal',
};
/** The same object with fields the public contract has never heard of. */
const withInternals = <T extends object>(o: T): T => ({ ...o, paymentRef: 'pay_internal', claimToken: 'secret', version: 3 });

describe('response mappers', () => {
  it('a transaction shows exactly the contract fields, whatever else the core carries', () => {
    expect(Object.keys(publicTransaction(withInternals(tx))).sort()).toEqual(
      ['amount', 'createdAt', 'currency', 'id', 'metadata', 'refundedAmount', 'status', 'toUserId', 'type', 'updatedAt', 'userId'],
    );
    const { toUserId: _to, ...deposit } = { ...tx, type: 'deposit' as const };
    expect(publicTransaction(deposit)).not.toHaveProperty('toUserId');
  });

  it('a user and its balances show exactly the contract fields', () => {
    const user: User = { id: 'alice', email: 'a@example.com', name: 'A', createdAt: tx.createdAt, balances: [withInternals({ currency: 'USD', available: 5, held: 3 })] };
    const shown = publicUser(withInternals(user));
    expect(shown).toEqual({ id: 'alice', email: 'a@example.com', name: 'A', createdAt: tx.createdAt, balances: [{ currency: 'USD', available: 5, held: 3 }] });
  });

  it('refundedAmount: on every deposit, withdrawal and transfer (0 when a store has none), never on a refund', () => {
    for (const type of ['deposit', 'withdrawal', 'transfer'] as const) {
      expect(publicTransaction({ ...tx, type })).toMatchObject({ refundedAmount: 0 });
      expect(publicTransaction({ ...tx, type, refundedAmount: 40 })).toMatchObject({ refundedAmount: 40 });
    }
    const refund = publicTransaction({ ...tx, type: 'refund', refundOf: '018f4c1e-0000-7000-8000-000000000002', refundedAmount: 5 });
    expect(refund).not.toHaveProperty('refundedAmount');
    expect(refund.refundOf).toBe('018f4c1e-0000-7000-8000-000000000002');
  });

  it('holdId and refundOf appear only when set, never as null', () => {
    const plain = publicTransaction(tx);
    expect(plain).not.toHaveProperty('holdId');
    expect(plain).not.toHaveProperty('refundOf');
    expect(publicTransaction({ ...tx, holdId: '018f4c1e-0000-7000-8000-000000000003' }).holdId).toBe('018f4c1e-0000-7000-8000-000000000003');
  });

  it('a hold shows exactly the contract fields; toUserId and transactionId only when they apply', () => {
    const hold: Hold = {
      id: '018f4c1e-0000-7000-8000-000000000004', userId: 'alice', amount: 250, currency: 'USD', capturedAmount: 0, status: 'held',
      expiresAt: '2026-01-01T01:00:00.000Z', metadata: { order: '42' }, createdAt: tx.createdAt, updatedAt: tx.createdAt,
    };
    expect(Object.keys(publicHold(withInternals(hold))).sort()).toEqual(
      ['amount', 'capturedAmount', 'createdAt', 'currency', 'expiresAt', 'id', 'metadata', 'status', 'updatedAt', 'userId'],
    );
    const captured = publicHold({ ...hold, toUserId: 'bob', status: 'captured', capturedAmount: 200, transactionId: tx.id });
    expect(captured).toMatchObject({ toUserId: 'bob', capturedAmount: 200, transactionId: tx.id });
    expect(publicHoldPage([withInternals(hold)], null)).toEqual({ data: [publicHold(hold)], nextCursor: null });
  });

  it('a page maps every transaction; health shows its status only', () => {
    expect(publicPage([withInternals(tx)], null).data[0]).not.toHaveProperty('paymentRef');
    expect(Object.keys(publicPage([], 'c'))).toEqual(['data', 'nextCursor']);
    expect(publicHealth('ok')).toEqual({ status: 'ok' });
  });

  it('an error shows code, message, param and request id only', () => {
    const e = Object.assign(new InsufficientFunds(), { sql: 'SELECT …', host: 'db.internal' });
    expect(publicError(e, 'req-1')).toEqual({
      error: { code: 'insufficient_funds', message: 'The available balance does not cover this amount', param: 'amount', requestId: 'req-1' },
    });
  });
});
