// The EventBridge publisher through the real SDK against a local endpoint that speaks
// PutEvents' wire protocol and fails on demand (test/support/fake-eventbridge.ts).
import { randomUUID } from 'node:crypto';
import type { EventDetail } from '../../src/core/events';
import { makeEventBridgePublisher, type EventBridgePublisher, type EventBridgePublisherOptions } from '../../src/adapters/eventbridge/eventbridge-publisher';
import { logger } from '../../src/observability/logger';
import { startFakeEventBridge, type FakeEventBridge } from '../support/fake-eventbridge';

const BUS = 'wallet-test';
let fake: FakeEventBridge;
const savedEnv = { ...process.env };
const publishers: EventBridgePublisher[] = [];

// Short delays keep the suite quick; the budget is generous unless a test is about it.
const publisher = (overrides: Partial<EventBridgePublisherOptions> = {}): EventBridgePublisher => {
  const p = makeEventBridgePublisher({ busName: BUS, timeBudgetMs: 10_000, callTimeoutMs: 500, initialDelayMs: 5, maxDelayMs: 20, ...overrides });
  publishers.push(p);
  return p;
};

let seq = 0;
const event = (data: Record<string, unknown> = {}): EventDetail => ({
  id: randomUUID(),
  type: 'transaction.completed',
  occurredAt: new Date().toISOString(),
  version: 1,
  data: { id: `tx-${++seq}`, amount: 1250, currency: 'USD', status: 'completed', ...data },
});
const events = (n: number): EventDetail[] => Array.from({ length: n }, () => event());
const ids = (list: EventDetail[]): string[] => list.map((e) => e.id).sort();
/** How many times each id was delivered. */
const deliveries = (): Record<string, number> =>
  Object.fromEntries([...fake.eventsById()].map(([id, got]) => [id, got.length]));
const once = (list: EventDetail[]): Record<string, number> => Object.fromEntries(list.map((e) => [e.id, 1]));

beforeAll(async () => {
  fake = await startFakeEventBridge();
  // Read when the publisher builds its client, on first use.
  Object.assign(process.env, fake.sdkEnv());
});

beforeEach(() => {
  fake.reset();
  jest.spyOn(logger, 'warn').mockImplementation(() => undefined);
});

afterEach(() => {
  jest.restoreAllMocks();
  for (const p of publishers.splice(0)) p.close();
});

afterAll(async () => {
  await fake.close();
  process.env = savedEnv;
});

describe('EventBridge publisher', () => {
  it('sends at most 10 entries a call (25 events: 3 calls) with Source, DetailType, Detail and bus exact', async () => {
    const sent = events(25);
    sent[3] = { ...event({ id: 'hold-1' }), type: 'hold.captured', version: 2 };

    expect(await publisher().publish(sent)).toEqual({ failed: [] });

    expect(fake.stats()).toMatchObject({ calls: 3, maxEntriesPerCall: 10, entriesDelivered: 25, entriesFailed: 0 });
    const perCall = new Map<number, number>();
    for (const e of fake.events()) perCall.set(e.call, (perCall.get(e.call) ?? 0) + 1);
    expect([...perCall.values()].sort((a, b) => a - b)).toEqual([5, 10, 10]);
    expect(deliveries()).toEqual(once(sent));
    const received = new Map(fake.events().map((e) => [e.detail.id, e]));
    for (const e of sent) {
      expect(received.get(e.id)).toMatchObject({ busName: BUS, source: 'wallet', detailType: e.type, detail: e });
    }
    expect(received.get(sent[3]!.id)).toMatchObject({ detailType: 'hold.captured', detail: { version: 2, data: { id: 'hold-1' } } });
  });

  it('sends nothing for no events', async () => {
    expect(await publisher().publish([])).toEqual({ failed: [] });
    expect(fake.stats().calls).toBe(0);
  });

  it('resends only the entries a 200 reported failed, until they are delivered', async () => {
    const sent = events(5);
    fake.failEntries([sent[1]!.id], { times: 2, code: 'InternalFailure' });
    fake.failEntries([sent[4]!.id], { times: 2, code: 'ThrottlingException' });

    expect(await publisher().publish(sent)).toEqual({ failed: [] });

    // Call 1 delivers 3 of 5; calls 2 and 3 carry just the two failed ones.
    expect(fake.stats()).toMatchObject({ calls: 3, entriesDelivered: 5, entriesFailed: 4 });
    expect(deliveries()).toEqual(once(sent));
    expect(fake.events().filter((e) => e.call > 1).map((e) => e.detail.id).sort()).toEqual(ids([sent[1]!, sent[4]!]));
  });

  it('delivers every event once when a share of all entries fails', async () => {
    fake.failShare(0.3);
    const sent = events(40);

    expect(await publisher().publish(sent)).toEqual({ failed: [] });

    expect(deliveries()).toEqual(once(sent));
    expect(fake.stats().entriesFailed).toBeGreaterThan(0);
  });

  it('gives up at once on an entry error no resend cures, and delivers the rest', async () => {
    const sent = events(4);
    fake.failEntries([sent[2]!.id], { times: Number.POSITIVE_INFINITY, code: 'MalformedDetail' });

    expect(await publisher().publish(sent)).toEqual({ failed: [sent[2]!.id] });

    expect(fake.stats()).toMatchObject({ calls: 1, entriesFailed: 1, entriesDelivered: 3 });
    expect(logger.warn).toHaveBeenCalledWith(expect.any(String), { count: 1, reasons: { MalformedDetail: 1 } });
  });

  it('retries calls answered 500 and throttled', async () => {
    fake.failNextCalls(2, 'server_error');
    fake.failNextCalls(2, 'throttling');
    const sent = events(3);

    expect(await publisher().publish(sent)).toEqual({ failed: [] });

    expect(fake.stats()).toMatchObject({ calls: 5, serverErrors: 2, throttled: 2 });
    expect(deliveries()).toEqual(once(sent));
  });

  it('does not retry a call error no retry cures (access denied): the events stay for the next run', async () => {
    fake.failNextCalls(1, 'access_denied');
    const sent = events(3);

    const { failed } = await publisher().publish(sent);

    expect(failed.sort()).toEqual(ids(sent));
    expect(fake.stats()).toMatchObject({ calls: 1, rejected: 1, entriesDelivered: 0 });
  });

  it('times out a call that gets no answer and sends it again', async () => {
    fake.hangNextCalls(1);
    const sent = events(3);

    expect(await publisher({ callTimeoutMs: 200 }).publish(sent)).toEqual({ failed: [] });

    expect(fake.stats()).toMatchObject({ calls: 2, hung: 1 });
    expect(deliveries()).toEqual(once(sent));
  });

  it('delivers again when a timed-out call had reached the bus (at least once)', async () => {
    fake.hangNextCalls(1, { deliver: true });
    const sent = events(2);

    expect(await publisher({ callTimeoutMs: 200 }).publish(sent)).toEqual({ failed: [] });

    expect(deliveries()).toEqual(Object.fromEntries(sent.map((e) => [e.id, 2])));
  });

  it('returns what is undelivered when the time budget runs out, without throwing', async () => {
    fake.failNextCalls(10_000, 'server_error');
    const sent = events(12);

    const { failed } = await publisher({ timeBudgetMs: 300 }).publish(sent);

    expect(failed.sort()).toEqual(ids(sent));
    expect(fake.stats().serverErrors).toBeGreaterThan(2);
    // The call in flight when the budget ran out may be the one that names the reason (on a loaded machine).
    const [, fields] = (logger.warn as jest.Mock).mock.calls.at(-1) as [string, { count: number; reasons: Record<string, number> }];
    expect(fields.count).toBe(12);
    expect(Object.keys(fields.reasons).filter((r) => r !== 'AbortError')).toEqual(['InternalException']);
  });

  it('the budget cuts a call that hangs longer than it', async () => {
    fake.hangNextCalls(100);
    const sent = events(2);

    // A call timeout past the test's own: only the budget can end this publish.
    const { failed } = await publisher({ timeBudgetMs: 300, callTimeoutMs: 60_000 }).publish(sent);

    expect(failed.sort()).toEqual(ids(sent));
    // Every call hung, so nothing was delivered, and the publish ended with the budget, not the call timeout.
    expect(fake.stats().hung).toBeGreaterThanOrEqual(1);
    expect(fake.events()).toEqual([]);
  }, 10_000);

  it('reports an entry over 256 KB failed and never sends it; two large ones go in separate calls', async () => {
    const oversize = event({ note: 'x'.repeat(256 * 1024) });
    const large = [event({ note: 'y'.repeat(150 * 1024) }), event({ note: 'z'.repeat(150 * 1024) })];
    const small = events(3);

    expect(await publisher().publish([...small, oversize, ...large])).toEqual({ failed: [oversize.id] });

    expect(fake.eventsById().has(oversize.id)).toBe(false);
    expect(deliveries()).toEqual(once([...small, ...large]));
    // No call broke the per-call limit either (the fake refuses those with a 400).
    expect(fake.stats()).toMatchObject({ rejected: 0, calls: 2 });
  });
});
