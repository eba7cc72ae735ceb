import type { Collection, Db } from 'mongodb';
import type { BalanceDoc, HoldDoc, IdempotencyDoc, TransactionDoc, UserDoc } from './mongo-documents';
import type { OutboxDoc } from './mongo-outbox-documents';

export const COLLECTIONS = {
  users: 'users',
  balances: 'balances',
  transactions: 'transactions',
  holds: 'holds',
  idempotency: 'idempotency',
  outbox: 'outbox',
} as const;

export interface MongoCollections {
  users: Collection<UserDoc>;
  balances: Collection<BalanceDoc>;
  transactions: Collection<TransactionDoc>;
  holds: Collection<HoldDoc>;
  idempotency: Collection<IdempotencyDoc>;
  /** Written only with events on (mongo-changes.ts), read by the relay (mongo-outbox.ts). */
  outbox: Collection<OutboxDoc>;
}

// Int64 values come back as Long (not promoted to a JS number, which would silently
// turn into a double past 2^53); the mappers read them through parseStoredAmount.
const exactIntegers = { promoteLongs: false } as const;

export const mongoCollections = (db: Db): MongoCollections => ({
  users: db.collection<UserDoc>(COLLECTIONS.users),
  balances: db.collection<BalanceDoc>(COLLECTIONS.balances, exactIntegers),
  transactions: db.collection<TransactionDoc>(COLLECTIONS.transactions, exactIntegers),
  holds: db.collection<HoldDoc>(COLLECTIONS.holds, exactIntegers),
  idempotency: db.collection<IdempotencyDoc>(COLLECTIONS.idempotency, exactIntegers),
  outbox: db.collection<OutboxDoc>(COLLECTIONS.outbox, exactIntegers),
});
