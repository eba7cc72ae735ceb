// Creates the collections (with validators that keep money fields Int64 and in the
// same bounds as PostgreSQL's CHECK constraints) and the indexes. Idempotent: run it
// on every deploy (`npm run migrate` with STORAGE=mongodb).
import { Long, type Db, type Document, type IndexDescription } from 'mongodb';
import { MAX_BALANCE } from '../../core/money';
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

export const MONGO_SCHEMA: CollectionSpec[] = [
  { name: COLLECTIONS.users, indexes: [] },
  {
    name: COLLECTIONS.balances,
    validator: { $jsonSchema: { required: ['userId', 'currency', 'available'], properties: { available: balance } } },
    indexes: [{ key: { userId: 1, currency: 1 }, name: 'userId_currency_unique', unique: true }],
  },
  {
    name: COLLECTIONS.transactions,
    validator: { $jsonSchema: { required: ['type', 'status', 'userId', 'parties', 'amount', 'currency'], properties: { amount } } },
    indexes: [
      // Keyset paging of one user's history, as sender, recipient or owner (multikey on parties).
      { key: { parties: 1, createdAt: -1, _id: -1 }, name: 'history' },
      // Reconciliation: pending deposits, oldest first; only pending ones are indexed.
      {
        key: { type: 1, createdAt: 1, _id: 1 },
        name: 'pending_by_age',
        partialFilterExpression: { status: 'pending' },
      },
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
