// How events become PutEvents entries and calls, against EventBridge's limits.
import { MAX_CALL_BYTES, batchEntries, entryBytes, toEntry, type OutgoingEntry } from '../../src/adapters/eventbridge/eventbridge-entries';
import { isRetryableEntryCode, transientReason } from '../../src/adapters/eventbridge/eventbridge-errors';
import type { EventDetail } from '../../src/core/events';

const detail = (id: string, note = ''): EventDetail => ({
  id, type: 'hold.created', occurredAt: '2025-01-01T00:00:00.000Z', version: 1, data: { id: `hold-${id}`, note },
});
const sized = (id: string, bytes: number): OutgoingEntry => ({ id, entry: {}, bytes });

describe('EventBridge entries', () => {
  it('carries the event as Detail under the bus, the source and its type', () => {
    const e = detail('e1');
    expect(toEntry(e, { busName: 'bus', source: 'wallet' })).toEqual({
      id: 'e1',
      entry: { Source: 'wallet', DetailType: 'hold.created', Detail: JSON.stringify(e), EventBusName: 'bus' },
      bytes: 'wallet'.length + 'hold.created'.length + JSON.stringify(e).length,
    });
  });

  it('sizes an entry in UTF-8 bytes, as EventBridge does, not in characters', () => {
    expect(entryBytes({ Source: 'wallet', DetailType: 't', Detail: '"€"' })).toBe(6 + 1 + 5);
    expect(entryBytes({ Source: 'a', Time: new Date(), Resources: ['arn:x'] })).toBe(1 + 14 + 5);
  });

  it('groups at most 10 entries a call, in order', () => {
    const batches = batchEntries(Array.from({ length: 25 }, (_, i) => sized(`e${i}`, 100)));
    expect(batches.map((b) => b.length)).toEqual([10, 10, 5]);
    expect(batches.flat().map((e) => e.id)).toEqual(Array.from({ length: 25 }, (_, i) => `e${i}`));
  });

  it('starts a new call before one would pass 256 KB', () => {
    const big = MAX_CALL_BYTES / 2;
    const batches = batchEntries([sized('a', big), sized('b', big), sized('c', 1), sized('d', MAX_CALL_BYTES)]);
    expect(batches.map((b) => b.map((e) => e.id))).toEqual([['a', 'b'], ['c'], ['d']]);
  });

  it('resends entries with a passing error, not those no resend cures', () => {
    expect(isRetryableEntryCode('InternalFailure')).toBe(true);
    expect(isRetryableEntryCode('ThrottlingException')).toBe(true);
    expect(isRetryableEntryCode('MalformedDetail')).toBe(false);
    expect(isRetryableEntryCode('AccessDeniedException')).toBe(false);
  });

  it('retries timeouts, throttling, 5xx and network errors; not other 4xx', () => {
    const sdkError = (name: string, status?: number, extra: object = {}) =>
      Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status }, ...extra });
    expect(transientReason(sdkError('AbortError'))).toBe('timeout');
    expect(transientReason(sdkError('ThrottlingException', 400))).toBe('throttled');
    expect(transientReason(sdkError('Whatever', 429))).toBe('throttled');
    expect(transientReason(sdkError('InternalException', 500))).toBe('server_error');
    expect(transientReason(sdkError('Error', undefined, { code: 'ECONNREFUSED' }))).toBe('network');
    expect(transientReason(sdkError('AccessDeniedException', 400))).toBeUndefined();
    expect(transientReason(sdkError('ValidationException', 400))).toBeUndefined();
  });
});
