// Responses are whitelists: a field the core adds stays internal until a mapper
// names it. (The replay path goes through the same mappers: functions/create-*.ts.)
import type { Transaction } from '../../src/core/transaction';
import type { User } from '../../src/core/user';
import { InsufficientFunds } from '../../src/core/errors';
import { publicError, publicHealth, publicPage, publicTransaction, publicUser } from '../../src/http/resources';

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
      ['amount', 'createdAt', 'currency', 'id', 'metadata', 'status', 'toUserId', 'type', 'updatedAt', 'userId'],
    );
    const { toUserId: _to, ...deposit } = { ...tx, type: 'deposit' as const };
    expect(publicTransaction(deposit)).not.toHaveProperty('toUserId');
  });

  it('a user and its balances show exactly the contract fields', () => {
    const user: User = { id: 'alice', email: 'a@example.com', name: 'A', createdAt: tx.createdAt, balances: [withInternals({ currency: 'USD', available: 5 })] };
    const shown = publicUser(withInternals(user));
    expect(shown).toEqual({ id: 'alice', email: 'a@example.com', name: 'A', createdAt: tx.createdAt, balances: [{ currency: 'USD', available: 5 }] });
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
