// Every change of a transaction or hold document counts itself in the document's
// `version` (inserted at 1, `$inc` by one in the update that makes the change), with
// events on or off. With events on, the change's event — that version, and the
// resource as the ledger returns it after the change (the mappers on the updated
// document) — is kept with the transaction's attempt and inserted into `outbox`
// just before the commit, in the same transaction: it commits with the change or not
// at all, and an attempt that is retried starts with none.
import { randomUUID } from 'node:crypto';
import type { ClientSession, Collection, Filter, UpdateFilter } from 'mongodb';
import { holdEventType, transactionEventType, type EventResource, type EventType, type WalletEvent } from '../../core/events';
import type { Hold } from '../../core/hold';
import type { Transaction } from '../../core/transaction';
import type { MongoCollections } from './mongo-collections';
import {
  fromHoldDoc, fromTransactionDoc, readAmount, toHoldDoc, toTransactionDoc, type HoldDoc, type TransactionDoc,
} from './mongo-documents';
import { toOutboxDoc } from './mongo-outbox-documents';

/** Goes into the `$inc` of every update that changes a transaction or hold. */
export const NEXT_VERSION = { version: 1 } as const;

/** A new transaction or hold document: its creation is change 1. */
export const newTransactionDoc = (tx: Transaction): TransactionDoc => ({ ...toTransactionDoc(tx), version: 1 });
export const newHoldDoc = (hold: Hold): HoldDoc => ({ ...toHoldDoc(hold), version: 1 });

type Versioned = { _id: string; version?: TransactionDoc['version'] };

const versionOf = (doc: Versioned): number => (doc.version == null ? 1 : readAmount(doc.version));

/**
 * A document stored before versions existed has no `version`; it counts as 1 (its
 * creation). Its first `$inc` finds it missing and makes it 1, which no other document
 * shows after a change (they start at 1), so that one change adds one more, in the same
 * transaction: the document then counts its creation and this change (2).
 */
const counted = async <D extends Versioned>(coll: Collection<D>, after: D, session: ClientSession | undefined): Promise<D> => {
  if (versionOf(after) !== 1) return after;
  const fixed = await coll.findOneAndUpdate(
    { _id: after._id } as Filter<D>,
    { $inc: NEXT_VERSION } as unknown as UpdateFilter<D>,
    { returnDocument: 'after', ...(session && { session }) },
  );
  return (fixed as D | null) ?? after;
};

export interface ChangeLog {
  /** A new attempt of a ledger transaction: the events of an aborted attempt are dropped. */
  begin(session: ClientSession): void;
  /** A transaction just inserted (newTransactionDoc) in `session`'s transaction. */
  insertedTransaction(doc: TransactionDoc, at: string, session: ClientSession): void;
  /** A transaction as an update with NEXT_VERSION left it; returns it as stored, counted. */
  updatedTransaction(after: TransactionDoc, statusChanged: boolean, at: string, session?: ClientSession): Promise<TransactionDoc>;
  insertedHold(doc: HoldDoc, at: string, session: ClientSession): void;
  updatedHold(after: HoldDoc, at: string, session?: ClientSession): Promise<HoldDoc>;
  /** Writes the attempt's events into the outbox, in its transaction (nothing with events off). */
  flush(session: ClientSession): Promise<void>;
}

export const makeChangeLog = (c: MongoCollections, options: { events?: boolean | undefined }): ChangeLog => {
  // Keyed by the session: the one object every step of one transaction already carries.
  const pending = new WeakMap<ClientSession, WalletEvent[]>();

  const announce = (doc: Versioned, resource: EventResource, type: EventType, at: string, session: ClientSession | undefined): void => {
    if (!options.events) return;
    if (!session) throw new Error('with events on, a change is written inside a transaction');
    const events = pending.get(session) ?? [];
    pending.set(session, events);
    events.push({ id: randomUUID(), type, occurredAt: at, version: versionOf(doc), resource });
  };
  const announceTx = (doc: TransactionDoc, statusChanged: boolean, at: string, session: ClientSession | undefined): void => {
    const transaction = fromTransactionDoc(doc);
    announce(doc, { kind: 'transaction', transaction }, transactionEventType(transaction, statusChanged), at, session);
  };
  const announceHold = (doc: HoldDoc, at: string, session: ClientSession | undefined): void => {
    const hold = fromHoldDoc(doc);
    announce(doc, { kind: 'hold', hold }, holdEventType(hold), at, session);
  };

  return {
    begin: (session) => {
      pending.delete(session);
    },
    insertedTransaction: (doc, at, session) => announceTx(doc, true, at, session),
    updatedTransaction: async (after, statusChanged, at, session) => {
      const doc = await counted(c.transactions, after, session);
      announceTx(doc, statusChanged, at, session);
      return doc;
    },
    insertedHold: (doc, at, session) => announceHold(doc, at, session),
    updatedHold: async (after, at, session) => {
      const doc = await counted(c.holds, after, session);
      announceHold(doc, at, session);
      return doc;
    },
    flush: async (session) => {
      const events = pending.get(session);
      pending.delete(session);
      if (events && events.length > 0) await c.outbox.insertMany(events.map(toOutboxDoc), { session });
    },
  };
};
