import { BSON, Long } from 'mongodb';
import type { Hold } from '../../src/core/hold';
import type { IdempotencyOutcome } from '../../src/core/ports';
import type { Transaction } from '../../src/core/transaction';
import {
  balanceId, fromBalanceDoc, fromHoldDoc, fromOutcomeDoc, fromTransactionDoc, fromUserDoc, heldIdempotencyFilter, idempotencyId,
  newClaimDoc, readAmount, toHoldDoc, toLong, toOutcomeDoc, toTransactionDoc, toUserDoc, type TransactionDoc,
} from '../../src/adapters/mongodb/mongo-documents';
import { holdsFilter } from '../../src/adapters/mongodb/mongo-holds';
import { historyFilter } from '../../src/adapters/mongodb/mongo-ledger';

/** What the server stores and hands back: BSON bytes, read with Int64 kept as Long (as the adapter's collections do). */
const throughBson = <T extends BSON.Document>(doc: T): T => BSON.deserialize(BSON.serialize(doc), { promoteLongs: false }) as T;

const transfer: Transaction = {
  id: '01890a5d-ac96-774b-bcce-b302099a8057',
  type: 'transfer',
  status: 'completed',
  userId: 'auth0|alice',
  toUserId: 'auth0|bob',
  amount: 100_000_000_000,
  currency: 'USD',
  metadata: { note: 'rent', 'a.b': 'dotted', $where: 'dollar' },
  refundedAmount: 40_000_000_000,
  createdAt: '2030-01-01T00:00:00.001Z',
  updatedAt: '2030-01-01T00:00:00.999Z',
};

const deposit: Transaction = {
  id: '01890a5d-ac96-774b-bcce-b302099a8058',
  type: 'deposit',
  status: 'pending',
  userId: 'auth0|alice',
  amount: 1050,
  currency: 'EUR',
  metadata: {},
  refundedAmount: 0,
  createdAt: '2030-01-01T00:00:00.000Z',
  updatedAt: '2030-01-01T00:00:00.000Z',
  paymentRef: 'pay_123',
};

const hold: Hold = {
  id: '01890a5d-ac96-774b-bcce-b302099a8059',
  userId: 'auth0|alice',
  toUserId: 'auth0|bob',
  amount: 250,
  currency: 'USD',
  capturedAmount: 200,
  status: 'captured',
  expiresAt: '2030-01-01T01:00:00.000Z',
  transactionId: '01890a5d-ac96-774b-bcce-b302099a805a',
  metadata: { 'order.id': 'o-1' },
  createdAt: '2030-01-01T00:00:00.000Z',
  updatedAt: '2030-01-01T00:10:00.000Z',
};

describe('mongodb document mappers', () => {
  it('round-trips a transfer through BSON exactly, in both parties and with awkward metadata keys', () => {
    const doc = throughBson(toTransactionDoc(transfer));
    expect(doc.parties).toEqual(['auth0|alice', 'auth0|bob']);
    expect(fromTransactionDoc(doc)).toEqual(transfer);
  });

  it('round-trips a deposit without toUserId, keeping its internal paymentRef', () => {
    const back = fromTransactionDoc(throughBson(toTransactionDoc(deposit)));
    expect(back).toEqual(deposit);
    expect(back).not.toHaveProperty('toUserId');
    const { paymentRef: _ref, ...withoutRef } = deposit;
    expect(fromTransactionDoc(throughBson(toTransactionDoc(withoutRef)))).not.toHaveProperty('paymentRef');
  });

  it('stores amounts as Int64, never as a double', () => {
    const doc = toTransactionDoc({ ...deposit, amount: 7 });
    expect(Long.isLong(doc.amount)).toBe(true);
    // A double in the BSON bytes would be type 0x01; an Int64 is 0x12.
    const bytes = BSON.serialize({ amount: doc.amount });
    expect(bytes[4]).toBe(0x12);
    expect(() => toLong(10.5)).toThrow(RangeError);
    expect(() => toLong(Number.MAX_SAFE_INTEGER + 1)).toThrow(RangeError);
  });

  it('reads Long, bigint and promoted int32 amounts exactly, and refuses floats and out-of-range values', () => {
    expect(readAmount(Long.fromString('9007199254740991'))).toBe(Number.MAX_SAFE_INTEGER);
    expect(readAmount(Long.fromString('300000000007'))).toBe(300_000_000_007);
    expect(readAmount(123n)).toBe(123);
    expect(readAmount(42)).toBe(42);
    expect(() => readAmount(Long.fromString('9007199254740993'))).toThrow(RangeError);
    expect(() => readAmount(10.5)).toThrow(RangeError);
    expect(() => readAmount('12')).toThrow(RangeError);
    expect(() => readAmount(undefined)).toThrow(RangeError);
  });

  it('keeps ISO timestamps with milliseconds through BSON dates', () => {
    const doc = throughBson(toTransactionDoc({ ...deposit, createdAt: '2031-12-31T23:59:59.007Z' }));
    expect(doc.createdAt).toBeInstanceOf(Date);
    expect(fromTransactionDoc(doc).createdAt).toBe('2031-12-31T23:59:59.007Z');
    expect(() => toTransactionDoc({ ...deposit, createdAt: 'yesterday' })).toThrow(RangeError);
  });

  it('refuses a stored currency the API does not support', () => {
    const doc: TransactionDoc = { ...toTransactionDoc(deposit), currency: 'XXX' };
    expect(() => fromTransactionDoc(doc)).toThrow(RangeError);
  });

  it('maps users and balances', () => {
    const profile = { id: 'auth0|abc', email: 'a@example.com', name: 'Ada', createdAt: '2030-01-01T00:00:00.123Z' };
    const doc = throughBson(toUserDoc(profile));
    expect(doc._id).toBe('auth0|abc');
    expect(fromUserDoc(doc)).toEqual(profile);
    const balance = throughBson({ _id: balanceId('u', 'GBP'), userId: 'u', currency: 'GBP', available: toLong(300_000_000_007) });
    // Stored before holds existed: no `held`, which reads as 0.
    expect(fromBalanceDoc(balance)).toEqual({ currency: 'GBP', available: 300_000_000_007, held: 0 });
    expect(fromBalanceDoc(throughBson({ ...balance, held: toLong(25) }))).toEqual({ currency: 'GBP', available: 300_000_000_007, held: 25 });
  });

  it('stores refundedAmount (Int64) on deposits, withdrawals and transfers only, and reads a document stored before refunds as 0', () => {
    const doc = throughBson(toTransactionDoc({ ...deposit, refundedAmount: undefined }));
    expect(Long.isLong(doc.refundedAmount)).toBe(true);
    expect(fromTransactionDoc(doc).refundedAmount).toBe(0);
    const { refundedAmount: _r, ...old } = throughBson(toTransactionDoc(transfer));
    expect(fromTransactionDoc(old)).toEqual({ ...transfer, refundedAmount: 0 });
    const refund: Transaction = {
      ...transfer, id: '01890a5d-ac96-774b-bcce-b302099a805b', type: 'refund', refundedAmount: undefined, refundOf: transfer.id,
    };
    const refundDoc = throughBson(toTransactionDoc(refund));
    expect(refundDoc).not.toHaveProperty('refundedAmount');
    const { refundedAmount: _none, ...refundFields } = refund;
    expect(fromTransactionDoc(refundDoc)).toStrictEqual(refundFields);
    const capture: Transaction = { ...transfer, holdId: hold.id };
    expect(fromTransactionDoc(throughBson(toTransactionDoc(capture)))).toEqual(capture);
  });

  it('round-trips a hold through BSON exactly, its amounts as Int64, and leaves out what does not apply', () => {
    const doc = throughBson(toHoldDoc(hold));
    expect(Long.isLong(doc.amount) && Long.isLong(doc.capturedAmount)).toBe(true);
    expect(doc.expiresAt).toBeInstanceOf(Date);
    expect(fromHoldDoc(doc)).toStrictEqual(hold);
    const { toUserId: _to, transactionId: _t, ...live } = { ...hold, status: 'held' as const, capturedAmount: 0 };
    expect(fromHoldDoc(throughBson(toHoldDoc(live)))).toStrictEqual(live);
  });

  it('round-trips every kind of idempotency outcome', () => {
    const tx: IdempotencyOutcome = { kind: 'transaction', transaction: transfer };
    expect(fromOutcomeDoc(throughBson(toOutcomeDoc(tx)))).toEqual(tx);
    const held: IdempotencyOutcome = { kind: 'hold', hold };
    expect(fromOutcomeDoc(throughBson(toOutcomeDoc(held)))).toStrictEqual(held);
    const err: IdempotencyOutcome = { kind: 'error', error: { code: 'payment_failed', message: 'declined', param: 'paymentToken', transactionId: deposit.id } };
    expect(fromOutcomeDoc(throughBson(toOutcomeDoc(err)))).toEqual(err);
    const bare: IdempotencyOutcome = { kind: 'error', error: { code: 'not_found', message: 'x' } };
    expect(fromOutcomeDoc(throughBson(toOutcomeDoc(bare)))).toStrictEqual(bare);
  });

  it('stores the claiming request\'s token with a new claim, through BSON', () => {
    const scope = { callerId: 'auth0|alice', key: 'k-1', fingerprint: 'fp', token: '7d0c9a1e-1f3b-4c2e-9d55-0a6f3e2b8c41' };
    const doc = throughBson(newClaimDoc(scope, { leaseUntil: '2030-01-01T00:01:00.000Z', expiresAt: '2030-01-02T00:00:00.000Z' }));
    expect(doc).toEqual({
      _id: idempotencyId(scope),
      callerId: 'auth0|alice',
      key: 'k-1',
      fingerprint: 'fp',
      token: scope.token,
      state: 'in_flight',
      leaseUntil: new Date('2030-01-01T00:01:00.000Z'),
      expiresAt: new Date('2030-01-02T00:00:00.000Z'),
    });
  });

  it('matches a key only while it is in flight with the request\'s own token', () => {
    const scope = { callerId: 'c', key: 'k', fingerprint: 'fp', token: 't-1' };
    expect(heldIdempotencyFilter(scope)).toEqual({ _id: idempotencyId(scope), state: 'in_flight', token: 't-1' });
    expect(heldIdempotencyFilter({ ...scope, token: 't-2' })).not.toEqual(heldIdempotencyFilter(scope));
  });

  it('derives ids that cannot collide across different (caller, key) or (user, currency) pairs', () => {
    expect(idempotencyId({ callerId: 'a"', key: 'b' })).not.toBe(idempotencyId({ callerId: 'a', key: '"b' }));
    expect(idempotencyId({ callerId: 'a,b', key: 'c' })).not.toBe(idempotencyId({ callerId: 'a', key: 'b,c' }));
    expect(balanceId('u', 'USD')).toBe(balanceId('u', 'USD'));
    expect(balanceId('u', 'USD')).not.toBe(balanceId('u', 'EUR'));
  });
});

describe('mongodb history filter', () => {
  it('finds a user as either party and pages by the (createdAt, id) keyset', () => {
    expect(historyFilter({ userId: 'u', limit: 10 })).toEqual({ parties: 'u' });
    const f = historyFilter({
      userId: 'u', limit: 10, type: 'transfer', status: 'completed',
      before: { createdAt: '2030-01-01T00:00:00.005Z', id: 'id-5' },
    });
    const at = new Date('2030-01-01T00:00:00.005Z');
    expect(f).toEqual({
      parties: 'u', type: 'transfer', status: 'completed',
      $or: [{ createdAt: { $lt: at } }, { createdAt: at, _id: { $lt: 'id-5' } }],
    });
  });
});

describe('mongodb holds filter', () => {
  const now = '2030-01-01T00:30:00.000Z';
  const at = new Date(now);

  it('lists the payer\'s holds, paging by the (createdAt, id) keyset', () => {
    expect(holdsFilter({ userId: 'u', limit: 10, now })).toEqual({ userId: 'u' });
    const before = new Date('2030-01-01T00:00:00.005Z');
    expect(holdsFilter({ userId: 'u', limit: 10, now, before: { createdAt: before.toISOString(), id: 'id-5' } })).toEqual({
      $and: [{ userId: 'u' }, { $or: [{ createdAt: { $lt: before } }, { createdAt: before, _id: { $lt: 'id-5' } }] }],
    });
  });

  it('matches a status as of now: a stored `held` past its expiry is `expired`, not `held`', () => {
    const status = (s: Hold['status']) => holdsFilter({ userId: 'u', limit: 10, now, status: s });
    expect(status('held')).toEqual({ $and: [{ userId: 'u' }, { status: 'held', expiresAt: { $gt: at } }] });
    expect(status('expired')).toEqual({
      $and: [{ userId: 'u' }, { $or: [{ status: 'expired' }, { status: 'held', expiresAt: { $lte: at } }] }],
    });
    expect(status('captured')).toEqual({ $and: [{ userId: 'u' }, { status: 'captured' }] });
    expect(status('voided')).toEqual({ $and: [{ userId: 'u' }, { status: 'voided' }] });
  });
});
