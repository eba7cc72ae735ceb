// The collections' $jsonSchema validators, without a server: migrate runs against a
// small stand-in for the Db it calls, and documents are checked against the validators
// it installed, by the subset of MongoDB's $jsonSchema (JSON Schema draft 4, plus
// bsonType) that they use. A keyword the checker does not know fails the test rather
// than passing unchecked. Values go through BSON as on the wire, so a money field's
// BSON type is what the server would see.
import { BSON, Long, type Db, type Document } from 'mongodb';
import type { WalletEvent } from '../../src/core/events';
import { MAX_BALANCE } from '../../src/core/money';
import type { Hold } from '../../src/core/hold';
import type { Transaction } from '../../src/core/transaction';
import { migrateMongo } from '../../src/adapters/mongodb/migrate';
import { balanceId, toHoldDoc, toTransactionDoc } from '../../src/adapters/mongodb/mongo-documents';
import { toOutboxDoc } from '../../src/adapters/mongodb/mongo-outbox-documents';

const bsonTypeOf = (v: unknown): string => {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (v === null) return 'null';
  if (v instanceof Date) return 'date';
  if (Array.isArray(v)) return 'array';
  const t = (v as { _bsontype?: string })._bsontype;
  if (t === 'Long') return 'long';
  if (t === 'Int32') return 'int';
  if (t === 'Double') return 'double';
  if (t === undefined && typeof v === 'object') return 'object';
  throw new Error(`the checker does not know the BSON type ${String(t)}`);
};

/** A numeric value or bound: exact as a bigint when integral, else a number. */
const numeric = (v: unknown): bigint | number | undefined => {
  if (Long.isLong(v)) return v.toBigInt();
  const t = (v as { _bsontype?: string } | null)?._bsontype;
  const n = typeof v === 'number' ? v : t === 'Int32' || t === 'Double' ? Number(v) : undefined;
  return n !== undefined && Number.isInteger(n) ? BigInt(n) : n;
};
const below = (a: bigint | number, b: bigint | number): boolean =>
  typeof a === 'bigint' && typeof b === 'bigint' ? a < b : Number(a) < Number(b);

/** Why `value` fails `schema`, or undefined when it passes. */
const violation = (schema: Document, value: unknown, path = 'document'): string | undefined => {
  for (const [keyword, arg] of Object.entries(schema)) {
    switch (keyword) {
      case 'bsonType': {
        const allowed = Array.isArray(arg) ? arg : [arg];
        if (!allowed.includes(bsonTypeOf(value))) return `${path}: ${bsonTypeOf(value)} is not ${allowed.join('|')}`;
        break;
      }
      case 'enum':
        // Strings are all our enums hold; anything else compares unequal, as BSON values of another type would.
        if (!(arg as unknown[]).some((a) => typeof a === 'string' && a === value)) return `${path}: ${String(value)} is not one of ${(arg as string[]).join('|')}`;
        break;
      case 'required':
        for (const k of arg as string[]) if (!(k in (value as Document))) return `${path}.${k}: missing`;
        break;
      case 'properties':
        for (const [k, sub] of Object.entries(arg as Document)) {
          if (value === null || typeof value !== 'object' || !(k in value)) continue;
          const why = violation(sub as Document, (value as Document)[k], `${path}.${k}`);
          if (why) return why;
        }
        break;
      case 'minimum':
      case 'maximum': {
        const [n, bound] = [numeric(value), numeric(arg)];
        if (bound === undefined) throw new Error(`${keyword} must be a number`);
        if (n === undefined) break; // applies to numbers only
        if (keyword === 'minimum' ? below(n, bound) : below(bound, n)) return `${path}: ${String(n)} is outside ${keyword} ${String(bound)}`;
        break;
      }
      default:
        throw new Error(`the checker does not know the $jsonSchema keyword ${keyword}`);
    }
  }
  return undefined;
};

/** The calls migrate makes on a Db, recording the validator each collection ends up with. */
const fakeDb = (existing: string[] = []) => {
  const validators = new Map<string, Document>();
  const collections = new Set(existing);
  const db = {
    listCollections: () => ({ toArray: async () => [...collections].map((name) => ({ name })) }),
    createCollection: async (name: string, opts: { validator?: Document }) => {
      collections.add(name);
      if (opts.validator) validators.set(name, opts.validator);
    },
    command: async (cmd: Document) => {
      if (typeof cmd.collMod !== 'string') throw new Error('the stand-in knows only collMod');
      validators.set(cmd.collMod, cmd.validator as Document);
      return { ok: 1 };
    },
    collection: () => ({ createIndexes: async (specs: { name?: string }[]) => specs.map((s) => s.name ?? '') }),
  };
  /** What the server answers for an insert, or an update's result, into `name`. */
  const refusal = (name: string, doc: Document): string | undefined => {
    const validator = validators.get(name);
    if (!validator) return undefined;
    if (Object.keys(validator).some((k) => k !== '$jsonSchema')) throw new Error('the checker knows only $jsonSchema validators');
    const onTheWire = BSON.deserialize(BSON.serialize(doc), { promoteValues: false });
    return violation(validator.$jsonSchema as Document, onTheWire);
  };
  return { db: db as unknown as Db, refusal };
};

const balance = (available: Long | number): Document => ({ _id: balanceId('u', 'USD'), userId: 'u', currency: 'USD', available });
const transaction = (over: Partial<Transaction> = {}): Document => {
  const t = '2031-01-01T00:00:00.000Z';
  return toTransactionDoc({
    id: '0190a0b0-0000-7000-8000-000000000000', type: 'deposit', status: 'pending', userId: 'u', amount: 100, currency: 'USD',
    metadata: {}, createdAt: t, updatedAt: t, ...over,
  });
};
const hold = (over: Partial<Hold> = {}): Document => {
  const t = '2031-01-01T00:00:00.000Z';
  return toHoldDoc({
    id: '0190a0b0-0000-7000-8000-000000000001', userId: 'u', amount: 250, currency: 'USD', capturedAmount: 0, status: 'held',
    expiresAt: '2031-01-01T01:00:00.000Z', metadata: {}, createdAt: t, updatedAt: t, ...over,
  });
};
const long = (n: bigint): Long => Long.fromBigInt(n);
const MAX = BigInt(MAX_BALANCE);

describe('mongodb collection validators (the bounds of PostgreSQL\'s CHECK constraints)', () => {
  it.each([
    ['a fresh deployment', []],
    ['an existing deployment, updated in place', ['users', 'balances', 'transactions', 'idempotency']],
  ])('after migrate on %s, a balance stays within 0 … 2^53 − 1 and an amount is at least 1', async (_name, existing) => {
    const { db, refusal } = fakeDb(existing);
    await migrateMongo(db);

    // balances: CHECK (available >= 0), CHECK (available <= 9007199254740991)
    expect(refusal('balances', balance(long(0n)))).toBeUndefined();
    expect(refusal('balances', balance(long(MAX)))).toBeUndefined();
    expect(refusal('balances', balance(long(-1n)))).toMatch(/available/);
    expect(refusal('balances', balance(long(MAX + 1n)))).toMatch(/available/);
    expect(refusal('balances', balance(long(-(2n ** 63n))))).toMatch(/available/);

    // transactions: CHECK (amount > 0)
    expect(refusal('transactions', transaction())).toBeUndefined();
    expect(refusal('transactions', transaction({ amount: 1 }))).toBeUndefined();
    expect(refusal('transactions', transaction({ amount: MAX_BALANCE }))).toBeUndefined();
    expect(refusal('transactions', { ...transaction(), amount: long(0n) })).toMatch(/amount/);
    expect(refusal('transactions', { ...transaction(), amount: long(-5n) })).toMatch(/amount/);
  });

  it('still refuses a money field that is not an Int64, whatever its value', async () => {
    const { db, refusal } = fakeDb();
    await migrateMongo(db);
    expect(refusal('balances', balance(1.5))).toMatch(/double is not long/);
    expect(refusal('balances', balance(10))).toMatch(/int is not long/);
    expect(refusal('transactions', { ...transaction(), amount: 2 ** 40 })).toMatch(/double is not long/);
    expect(refusal('balances', { ...balance(long(0n)), held: 3 })).toMatch(/int is not long/);
    expect(refusal('transactions', { ...transaction(), refundedAmount: 0 })).toMatch(/int is not long/);
    expect(refusal('holds', { ...hold(), amount: 250 })).toMatch(/int is not long/);
  });

  it('keeps `held` within 0 … 2^53 − 1, and still takes a balance stored before holds (no `held`)', async () => {
    const { db, refusal } = fakeDb(['balances']);
    await migrateMongo(db);
    expect(refusal('balances', balance(long(5n)))).toBeUndefined();
    expect(refusal('balances', { ...balance(long(5n)), held: long(0n) })).toBeUndefined();
    expect(refusal('balances', { ...balance(long(5n)), held: long(MAX) })).toBeUndefined();
    expect(refusal('balances', { ...balance(long(5n)), held: long(-1n) })).toMatch(/held/);
    expect(refusal('balances', { ...balance(long(5n)), held: long(MAX + 1n) })).toMatch(/held/);
  });

  it('takes refunds and their fields, and refuses an unknown type or status or a negative refundedAmount', async () => {
    const { db, refusal } = fakeDb();
    await migrateMongo(db);
    expect(refusal('transactions', transaction({ type: 'withdrawal', status: 'completed', refundedAmount: 40 }))).toBeUndefined();
    const refund = transaction({ type: 'refund', status: 'pending', refundOf: '0190a0b0-0000-7000-8000-00000000000f' });
    expect(refusal('transactions', refund)).toBeUndefined();
    expect(refusal('transactions', transaction({ type: 'transfer', status: 'completed', holdId: 'h-1' }))).toBeUndefined();
    expect(refusal('transactions', { ...transaction(), type: 'chargeback' })).toMatch(/type/);
    expect(refusal('transactions', { ...transaction(), status: 'refunded' })).toMatch(/status/);
    expect(refusal('transactions', { ...transaction(), refundedAmount: long(-1n) })).toMatch(/refundedAmount/);
    expect(refusal('transactions', { ...refund, refundOf: 7 })).toMatch(/refundOf/);
  });

  it('validates holds: every field present, amount at least 1, capturedAmount at least 0, a known status, dates', async () => {
    const { db, refusal } = fakeDb();
    await migrateMongo(db);
    expect(refusal('holds', hold())).toBeUndefined();
    expect(refusal('holds', hold({ toUserId: 'v', status: 'captured', capturedAmount: 250, transactionId: 't-1' }))).toBeUndefined();
    expect(refusal('holds', { ...hold(), amount: long(0n) })).toMatch(/amount/);
    expect(refusal('holds', { ...hold(), capturedAmount: long(-1n) })).toMatch(/capturedAmount/);
    expect(refusal('holds', { ...hold(), status: 'pending' })).toMatch(/status/);
    expect(refusal('holds', { ...hold(), expiresAt: '2031-01-01T01:00:00.000Z' })).toMatch(/expiresAt/);
    const { expiresAt: _e, ...noExpiry } = hold();
    expect(refusal('holds', noExpiry)).toMatch(/expiresAt: missing/);
  });
});

describe('mongodb validators for the outbox and the change counter', () => {
  const event = (): WalletEvent => {
    const t = '2031-01-01T00:00:00.000Z';
    const transaction: Transaction = {
      id: '0190a0b0-0000-7000-8000-000000000002', type: 'deposit', status: 'pending', userId: 'u', amount: 100, currency: 'USD',
      metadata: {}, createdAt: t, updatedAt: t, refundedAmount: 0,
    };
    return { id: '5f0c5b8e-0000-4000-8000-000000000000', type: 'transaction.pending', occurredAt: t, version: 1, resource: { kind: 'transaction', transaction } };
  };

  it('takes an event as written and as claimed, and refuses an unknown type, a version below 1 or a lease that is not a date', async () => {
    const { db, refusal } = fakeDb(['users', 'balances', 'transactions', 'holds', 'idempotency']);
    await migrateMongo(db);
    const doc = toOutboxDoc(event());
    expect(refusal('outbox', doc)).toBeUndefined();
    expect(refusal('outbox', { ...doc, leaseUntil: new Date(), token: 't' })).toBeUndefined();
    expect(refusal('outbox', { ...doc, leaseUntil: null, token: null })).toBeUndefined();
    expect(refusal('outbox', { ...doc, type: 'transaction.refunded' })).toMatch(/type/);
    expect(refusal('outbox', { ...doc, version: 0 })).toMatch(/version/);
    expect(refusal('outbox', { ...doc, leaseUntil: '2031-01-01T00:00:00.000Z' })).toMatch(/leaseUntil/);
    expect(refusal('outbox', { ...doc, resource: { kind: 'user' } })).toMatch(/kind/);
    const { occurredAt: _o, ...undated } = doc;
    expect(refusal('outbox', undated)).toMatch(/occurredAt: missing/);
  });

  it('a transaction or hold counts from 1; a document without a version (stored before it) is still valid', async () => {
    const { db, refusal } = fakeDb();
    await migrateMongo(db);
    expect(refusal('transactions', { ...transaction(), version: 1 })).toBeUndefined();
    expect(refusal('transactions', { ...transaction(), version: long(3n) })).toBeUndefined();
    expect(refusal('transactions', transaction())).toBeUndefined();
    expect(refusal('transactions', { ...transaction(), version: 0 })).toMatch(/version/);
    expect(refusal('holds', { ...hold(), version: 2 })).toBeUndefined();
    expect(refusal('holds', { ...hold(), version: 1.5 })).toMatch(/version: double/);
  });
});
