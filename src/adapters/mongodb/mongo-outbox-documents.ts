// The outbox collection's documents: one per committed change of a transaction or
// hold, written in the change's own transaction, removed once a relay has published it.
import type { EventResource, EventType, WalletEvent } from '../../core/events';
import {
  fromDate, fromHoldDoc, fromTransactionDoc, readAmount, toDate, toHoldDoc, toTransactionDoc, type HoldDoc, type TransactionDoc,
} from './mongo-documents';

/** The resource as the ledger returns it, stored as its own collection stores it (Int64 amounts, BSON dates). */
export type ResourceDoc = { kind: 'transaction'; transaction: TransactionDoc } | { kind: 'hold'; hold: HoldDoc };

export interface OutboxDoc {
  /** The event's id: stable across every delivery. */
  _id: string;
  type: EventType;
  /** The `now` of the change's step; with `_id`, the order relays take events in (oldest first). */
  occurredAt: Date;
  version: number;
  resource: ResourceDoc;
  /** Absent (or null) until a relay claims the event; the claim runs until then. */
  leaseUntil?: Date | null;
  /** The claiming relay's token: only it can acknowledge (delete) the event. */
  token?: string | null;
}

const toResourceDoc = (r: EventResource): ResourceDoc =>
  r.kind === 'transaction' ? { kind: 'transaction', transaction: toTransactionDoc(r.transaction) } : { kind: 'hold', hold: toHoldDoc(r.hold) };

const fromResourceDoc = (r: ResourceDoc): EventResource =>
  r.kind === 'transaction' ? { kind: 'transaction', transaction: fromTransactionDoc(r.transaction) } : { kind: 'hold', hold: fromHoldDoc(r.hold) };

export const toOutboxDoc = (e: WalletEvent): OutboxDoc => ({
  _id: e.id,
  type: e.type,
  occurredAt: toDate(e.occurredAt),
  version: e.version,
  resource: toResourceDoc(e.resource),
});

export const fromOutboxDoc = (doc: OutboxDoc): WalletEvent => ({
  id: doc._id,
  type: doc.type,
  occurredAt: fromDate(doc.occurredAt),
  version: readAmount(doc.version),
  resource: fromResourceDoc(doc.resource),
});
