// Creates the collections (with validators that keep money fields Int64 and in the
// same bounds as PostgreSQL's CHECK constraints) and the indexes. Idempotent: run it
// on every deploy (`npm run migrate` with STORAGE=mongodb).
import { Long, type Db, type Document, type IndexDescription } from 'mongodb';
import { EVENT_TYPES } from '../../core/events';
import { HOLD_STATUSES } from '../../core/hold';
import { MAX_BALANCE } from '../../core/money';
import { TRANSACTION_STATUSES, TRANSACTION_TYPES } from '../../core/transaction';
import { COLLECTIONS } from './mongo-collections';

interface CollectionSpec {
  name: string;
  /**
   * $jsonSchema validator: a double, a negative balance, a balance past 2^53 − 1 or an
   * amount below 1 is refused by the server itself (DocumentValidationFailure, code 121).
   */
  validator?: Document;
  indexes: IndexDescription[];
}

// Bounds as Int64 so the server compares them with the stored Int64 exactly.
// PostgreSQL: CHECK (available >= 0), CHECK (available <= 9007199254740991).
const balance = { bsonType: 'long', minimum: Long.fromInt(0), maximum: Long.fromBigInt(BigInt(MAX_BALANCE)) };
// PostgreSQL: CHECK (amount > 0).
const amount = { bsonType: 'long', minimum: Long.fromInt(1) };
// refundedAmount, capturedAmount: CHECK (… >= 0). (That they stay within `amount` is the
// writers' conditional filters: a $jsonSchema cannot compare two fields.)
const share = { bsonType: 'long', minimum: Long.fromInt(0) };
const date = { bsonType: 'date' };
const text = { bsonType: 'string' };
// The change counter: int32 as written by $inc of 1 (int64 should it ever pass 2^31 − 1).
// Not required: documents stored before it have none (counted as 1, mongo-changes.ts).
const version = { bsonType: ['int', 'long'], minimum: 1 };

export const MONGO_SCHEMA: CollectionSpec[] = [
  { name: COLLECTIONS.users, indexes: [] },
  {
    name: COLLECTIONS.balances,
    // `held` is not required: balances stored before holds have none (it reads as 0).
    validator: { $jsonSchema: { required: ['userId', 'currency', 'available'], properties: { available: balance, held: balance } } },
    indexes: [{ key: { userId: 1, currency: 1 }, name: 'userId_currency_unique', unique: true }],
  },
  {
    name: COLLECTIONS.transactions,
    validator: {
      $jsonSchema: {
        required: ['type', 'status', 'userId', 'parties', 'amount', 'currency'],
        properties: {
          type: { enum: [...TRANSACTION_TYPES] },
          status: { enum: [...TRANSACTION_STATUSES] },
          amount,
          refundedAmount: share,
          holdId: text,
          refundOf: text,
          version,
        },
      },
    },
    indexes: [
      // Keyset paging of one user's history, as sender, recipient or owner (multikey on parties).
      { key: { parties: 1, createdAt: -1, _id: -1 }, name: 'history' },
      // Reconciliation: pending deposits and refunds, oldest first; only pending ones are indexed.
      {
        key: { type: 1, createdAt: 1, _id: 1 },
        name: 'pending_by_age',
        partialFilterExpression: { status: 'pending' },
      },
    ],
  },
  {
    name: COLLECTIONS.holds,
    validator: {
      $jsonSchema: {
        required: ['userId', 'amount', 'currency', 'capturedAmount', 'status', 'expiresAt', 'metadata', 'createdAt', 'updatedAt'],
        properties: {
          userId: text,
          toUserId: text,
          amount,
          capturedAmount: share,
          status: { enum: [...HOLD_STATUSES] },
          expiresAt: date,
          transactionId: text,
          createdAt: date,
          updatedAt: date,
          version,
        },
      },
    },
    indexes: [
      // Keyset paging of the holds a user pays.
      { key: { userId: 1, createdAt: -1, _id: -1 }, name: 'payer_history' },
      // Before a debit: the payer's holds in the currency past their expiry; only live holds are indexed.
      {
        key: { userId: 1, currency: 1, expiresAt: 1 },
        name: 'live_by_payer',
        partialFilterExpression: { status: 'held' },
      },
      // The scheduled release: any payer's live holds, oldest expiry first.
      { key: { expiresAt: 1, _id: 1 }, name: 'live_by_expiry', partialFilterExpression: { status: 'held' } },
    ],
  },
  {
    name: COLLECTIONS.idempotency,
    indexes: [
      { key: { callerId: 1, key: 1 }, name: 'callerId_key_unique', unique: true },
      // Records are kept at least until expiresAt; the TTL monitor removes them some time after.
      { key: { expiresAt: 1 }, name: 'expiresAt_ttl', expireAfterSeconds: 0 },
    ],
  },
  {
    // Created whether events are on or not, so turning them on needs no migration.
    name: COLLECTIONS.outbox,
    validator: {
      $jsonSchema: {
        required: ['type', 'occurredAt', 'version', 'resource'],
        properties: {
          type: { enum: [...EVENT_TYPES] },
          occurredAt: date,
          version,
          resource: { bsonType: 'object', required: ['kind'], properties: { kind: { enum: ['transaction', 'hold'] } } },
          leaseUntil: { bsonType: ['date', 'null'] },
          token: { bsonType: ['string', 'null'] },
        },
      },
    },
    indexes: [
      // Relays claim oldest first, and the backlog names the oldest: (occurredAt, _id) order.
      { key: { occurredAt: 1, _id: 1 }, name: 'oldest_first' },
    ],
  },
];

/** Brings `db` to the schema above; returns what it did, one line per step. */
export const migrateMongo = async (db: Db): Promise<string[]> => {
  const done: string[] = [];
  const existing = new Set((await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name));
  for (const spec of MONGO_SCHEMA) {
    // Collections exist before any transaction writes to them (no implicit creation under load).
    if (!existing.has(spec.name)) {
      await db.createCollection(spec.name, spec.validator ? { validator: spec.validator } : {});
      done.push(`created collection ${spec.name}`);
    } else if (spec.validator) {
      await db.command({ collMod: spec.name, validator: spec.validator });
      done.push(`validator of ${spec.name} up to date`);
    }
    if (spec.indexes.length > 0) {
      const names = await db.collection(spec.name).createIndexes(spec.indexes);
      done.push(`indexes of ${spec.name}: ${names.join(', ')}`);
    }
  }
  return done;
};
