// Every committed change of a transaction or hold is one event (the transactional
// outbox writes it in the change's own atomic step; a relay publishes it).
import type { Hold } from './hold';
import type { Transaction } from './transaction';

export const EVENT_TYPES = [
  'transaction.pending', 'transaction.completed', 'transaction.failed', 'transaction.updated',
  'hold.created', 'hold.captured', 'hold.voided', 'hold.expired',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** What changed, as stored (mapped to the public resource shape when published). */
export type EventResource = { kind: 'transaction'; transaction: Transaction } | { kind: 'hold'; hold: Hold };

/** One committed change, as the outbox keeps it until it is published. */
export interface WalletEvent {
  /** Stable across every delivery of this event. */
  id: string;
  type: EventType;
  /** The commit time of the change. */
  occurredAt: string;
  /** Counts the changes of this one transaction or hold: 1, 2, … */
  version: number;
  resource: EventResource;
}

/** The event's `Detail` on the bus: the resource as the API returns it. */
export interface EventDetail {
  id: string;
  type: EventType;
  occurredAt: string;
  version: number;
  data: Record<string, unknown>;
}

/** The event type a transaction's new state is announced as (a change that leaves the status alone is an update). */
export const transactionEventType = (tx: Transaction, statusChanged: boolean): EventType =>
  statusChanged ? `transaction.${tx.status}` : 'transaction.updated';

export const holdEventType = (hold: Hold): EventType =>
  hold.status === 'held' ? 'hold.created' : `hold.${hold.status}`;
