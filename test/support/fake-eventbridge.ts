// A local stand-in for Amazon EventBridge that speaks the real wire protocol (JSON 1.1,
// X-Amz-Target) for PutEvents, so the real SDK runs unmodified against it. Point the
// SDK at it with AWS_ENDPOINT_URL_EVENTBRIDGE=<endpoint>. It keeps what it accepted and
// fails on demand: some entries of a call (a 200 with FailedEntryCount > 0), whole calls
// (500, 400 throttling) or no answer at all (the client times out).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

const REGION = 'us-east-1';
const MAX_ENTRIES = 10;
const MAX_CALL_BYTES = 256 * 1024;

/** Entry error codes EventBridge answers with; the first two are worth a resend. */
export type EntryErrorCode =
  | 'InternalFailure' | 'ThrottlingException' | 'MalformedDetail' | 'InvalidArgument' | 'AccessDeniedException' | (string & {});

export type CallFailure = 'server_error' | 'throttling' | 'access_denied';

/** One entry the bus accepted (a resent event appears once per acceptance). */
export interface ReceivedEvent {
  eventId: string;
  busName: string;
  source: string;
  detailType: string;
  /** The parsed Detail. */
  detail: Record<string, unknown>;
  /** 1-based number of the PutEvents call it came in. */
  call: number;
}

/** What happened to one entry of a call, for a live listener. */
export type EntryOutcome = { delivered: ReceivedEvent } | { failed: { code: string; detail: Record<string, unknown> | undefined } };

export interface FakeEventBridgeStats {
  /** PutEvents calls received, answered or not. */
  calls: number;
  /** Calls answered 500 / 400 throttling / 400 otherwise (refused), and calls left unanswered. */
  serverErrors: number;
  throttled: number;
  rejected: number;
  hung: number;
  /** Entries in calls that got a 200, split by their outcome. */
  entriesDelivered: number;
  entriesFailed: number;
  /** The most entries one call carried. */
  maxEntriesPerCall: number;
}

export interface FakeEventBridge {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  port: number;
  /** Every entry accepted, in order of arrival. */
  events(): ReceivedEvent[];
  /** Accepted entries grouped by Detail.id (more than one: delivered again). */
  eventsById(): Map<string, ReceivedEvent[]>;
  stats(): FakeEventBridgeStats;
  /** From now on fails each entry with this probability (0 turns it off). */
  failShare(share: number, code?: EntryErrorCode): void;
  /** Fails the next `times` (default 1) deliveries of each of these event ids. */
  failEntries(ids: string[], options?: { times?: number; code?: EntryErrorCode }): void;
  /**
   * The next `n` calls are answered 500 InternalException, 400 ThrottlingException or
   * 400 AccessDeniedException (which no retry cures).
   */
  failNextCalls(n: number, kind: CallFailure): void;
  /**
   * The next `n` calls get no answer (the client has to time out). With `deliver`, their
   * entries are accepted all the same: the sender cannot know, and sends them again.
   */
  hangNextCalls(n: number, options?: { deliver?: boolean }): void;
  /** Forgets the events, the counters and every pending failure. */
  reset(): void;
  /** The env vars the SDK reads (endpoint, region, dummy credentials). */
  sdkEnv(): Record<string, string>;
  close(): Promise<void>;
}

interface WireEntry { Source?: unknown; DetailType?: unknown; Detail?: unknown; EventBusName?: unknown; Resources?: unknown; Time?: unknown }

const bytes = (v: unknown): number => (typeof v === 'string' ? Buffer.byteLength(v, 'utf8') : 0);
const entryBytes = (e: WireEntry): number =>
  bytes(e.Source) + bytes(e.DetailType) + bytes(e.Detail)
  + (Array.isArray(e.Resources) ? e.Resources.reduce((s: number, r) => s + bytes(r), 0) : 0) + (e.Time !== undefined ? 14 : 0);

const parseDetail = (raw: unknown): Record<string, unknown> | undefined => {
  if (typeof raw !== 'string') return undefined;
  try {
    const parsed: unknown = JSON.parse(raw);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
};

const emptyStats = (): FakeEventBridgeStats => ({
  calls: 0, serverErrors: 0, throttled: 0, rejected: 0, hung: 0, entriesDelivered: 0, entriesFailed: 0, maxEntriesPerCall: 0,
});

export const startFakeEventBridge = async (
  options: { port?: number; host?: string; onEntry?: (outcome: EntryOutcome) => void } = {},
): Promise<FakeEventBridge> => {
  let received: ReceivedEvent[] = [];
  let stats = emptyStats();
  let share = { rate: 0, code: 'InternalFailure' };
  let entryFailures = new Map<string, { times: number; code: string }>();
  let callFailures: CallFailure[] = [];
  let hangs: Array<{ deliver: boolean }> = [];

  const send = (res: ServerResponse, status: number, body: unknown, errorType?: string): void => {
    const headers: Record<string, string> = { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': crypto.randomUUID() };
    if (errorType) headers['x-amzn-errortype'] = errorType;
    res.writeHead(status, headers);
    res.end(JSON.stringify(body));
  };
  const fail = (res: ServerResponse, status: number, type: string, message: string): void =>
    send(res, status, { __type: type, message }, type);

  /** The entry's error code, or undefined to accept it. */
  const judge = (entry: WireEntry, detail: Record<string, unknown> | undefined): string | undefined => {
    if (typeof entry.Source !== 'string' || typeof entry.DetailType !== 'string' || entry.Detail === undefined) return 'InvalidArgument';
    if (!detail) return 'MalformedDetail';
    const id = typeof detail.id === 'string' ? detail.id : undefined;
    const planned = id === undefined ? undefined : entryFailures.get(id);
    if (planned && id !== undefined) {
      if (--planned.times <= 0) entryFailures.delete(id);
      return planned.code;
    }
    return share.rate > 0 && Math.random() < share.rate ? share.code : undefined;
  };

  const accept = (entries: WireEntry[], call: number): Array<{ EventId: string } | { ErrorCode: string; ErrorMessage: string }> =>
    entries.map((entry) => {
      const detail = parseDetail(entry.Detail);
      const code = judge(entry, detail);
      if (code) {
        stats.entriesFailed++;
        options.onEntry?.({ failed: { code, detail } });
        return { ErrorCode: code, ErrorMessage: `${code} (injected by the fake)` };
      }
      const event: ReceivedEvent = {
        eventId: crypto.randomUUID(),
        busName: typeof entry.EventBusName === 'string' ? entry.EventBusName : 'default',
        source: entry.Source as string,
        detailType: entry.DetailType as string,
        detail: detail as Record<string, unknown>,
        call,
      };
      received.push(event);
      stats.entriesDelivered++;
      options.onEntry?.({ delivered: event });
      return { EventId: event.eventId };
    });

  const handle = (req: IncomingMessage, body: string, res: ServerResponse): void => {
    const target = req.headers['x-amz-target'];
    if (req.method !== 'POST' || target !== 'AWSEvents.PutEvents') {
      fail(res, 400, 'UnknownOperationException', `Operation ${String(target)} is not supported by the fake`);
      return;
    }
    let entries: unknown;
    try {
      entries = (JSON.parse(body) as { Entries?: unknown }).Entries;
    } catch {
      fail(res, 400, 'SerializationException', 'Body is not JSON');
      return;
    }
    const call = ++stats.calls;
    if (!Array.isArray(entries) || entries.length === 0 || entries.length > MAX_ENTRIES) {
      stats.rejected++;
      fail(res, 400, 'ValidationException', `Entries must hold 1 to ${MAX_ENTRIES} entries`);
      return;
    }
    const wire = entries as WireEntry[];
    stats.maxEntriesPerCall = Math.max(stats.maxEntriesPerCall, wire.length);
    if (wire.reduce((s, e) => s + entryBytes(e), 0) > MAX_CALL_BYTES) {
      stats.rejected++;
      fail(res, 400, 'ValidationException', 'Total size of the entries in the request is over the limit');
      return;
    }
    const hang = hangs.shift();
    if (hang) {
      // No answer: the socket stays open until the client gives up (or close()).
      stats.hung++;
      if (hang.deliver) accept(wire, call);
      return;
    }
    const failure = callFailures.shift();
    if (failure === 'server_error') {
      stats.serverErrors++;
      fail(res, 500, 'InternalException', 'Internal service error (injected by the fake)');
      return;
    }
    if (failure === 'throttling') {
      stats.throttled++;
      fail(res, 400, 'ThrottlingException', 'Rate exceeded (injected by the fake)');
      return;
    }
    if (failure === 'access_denied') {
      stats.rejected++;
      fail(res, 400, 'AccessDeniedException', 'Not authorized to put events (injected by the fake)');
      return;
    }
    const results = accept(wire, call);
    send(res, 200, { FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length, Entries: results });
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, Buffer.concat(chunks).toString('utf8'), res));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://${options.host ?? '127.0.0.1'}:${port}`;

  return {
    endpoint,
    port,
    events: () => [...received],
    eventsById() {
      const byId = new Map<string, ReceivedEvent[]>();
      for (const e of received) {
        const id = String(e.detail.id);
        byId.set(id, [...(byId.get(id) ?? []), e]);
      }
      return byId;
    },
    stats: () => ({ ...stats }),
    failShare(rate, code = 'InternalFailure') {
      share = { rate, code };
    },
    failEntries(ids, { times = 1, code = 'InternalFailure' } = {}) {
      for (const id of ids) entryFailures.set(id, { times, code });
    },
    failNextCalls(n, kind) {
      callFailures.push(...Array.from({ length: n }, () => kind));
    },
    hangNextCalls(n, { deliver = false } = {}) {
      hangs.push(...Array.from({ length: n }, () => ({ deliver })));
    },
    reset() {
      received = [];
      stats = emptyStats();
      share = { rate: 0, code: 'InternalFailure' };
      entryFailures = new Map();
      callFailures = [];
      hangs = [];
    },
    sdkEnv() {
      return {
        AWS_ENDPOINT_URL_EVENTBRIDGE: endpoint,
        AWS_REGION: REGION,
        AWS_ACCESS_KEY_ID: 'fake',
        AWS_SECRET_ACCESS_KEY: 'fake',
        // No instance metadata lookups when the credential chain is walked.
        AWS_EC2_METADATA_DISABLED: 'true',
      };
    },
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
    },
  };
};
