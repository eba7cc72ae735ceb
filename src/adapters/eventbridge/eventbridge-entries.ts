// Events → PutEvents entries, and entries → calls. Pure, so the limits are tested
// without a bus.
import type { PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import type { EventDetail } from '../../core/events';

/** EventBridge's limits: entries per PutEvents call, and bytes per entry and per call. */
export const MAX_ENTRIES_PER_CALL = 10;
export const MAX_CALL_BYTES = 256 * 1024;

/** One event as a PutEvents entry, with the id it reports failures under. */
export interface OutgoingEntry {
  id: string;
  entry: PutEventsRequestEntry;
  /** How EventBridge sizes an entry against its limits. */
  bytes: number;
}

const utf8Bytes = (s: string | undefined): number => (s === undefined ? 0 : Buffer.byteLength(s, 'utf8'));

/**
 * EventBridge counts the UTF-8 bytes of Source, DetailType, Detail and each resource
 * ARN, plus 14 when Time is set.
 */
export const entryBytes = (entry: PutEventsRequestEntry): number =>
  utf8Bytes(entry.Source) + utf8Bytes(entry.DetailType) + utf8Bytes(entry.Detail)
  + (entry.Resources ?? []).reduce((sum, arn) => sum + utf8Bytes(arn), 0)
  + (entry.Time ? 14 : 0);

export const toEntry = (event: EventDetail, target: { busName: string; source: string }): OutgoingEntry => {
  const entry: PutEventsRequestEntry = {
    Source: target.source,
    DetailType: event.type,
    Detail: JSON.stringify(event),
    EventBusName: target.busName,
  };
  return { id: event.id, entry, bytes: entryBytes(entry) };
};

/**
 * Groups entries into calls of at most 10 entries and 256 KB, in the order given.
 * Every entry must fit a call on its own (the caller sets oversize ones aside).
 */
export const batchEntries = (entries: OutgoingEntry[]): OutgoingEntry[][] => {
  const batches: OutgoingEntry[][] = [];
  let current: OutgoingEntry[] = [];
  let bytes = 0;
  for (const e of entries) {
    if (current.length === MAX_ENTRIES_PER_CALL || (current.length > 0 && bytes + e.bytes > MAX_CALL_BYTES)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(e);
    bytes += e.bytes;
  }
  if (current.length > 0) batches.push(current);
  return batches;
};
