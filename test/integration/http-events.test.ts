// Events end to end through the Lambda handlers, on the memory store, against the
// fake EventBridge (the real SDK over HTTP): every committed change arrives as one
// event with the resource exactly as the API returns it, published by the request
// that committed it; what the bus refused is left in the outbox and sent by the
// scheduled relay; a refused request publishes nothing.
import '../support/memory-http-env';

import { randomUUID } from 'node:crypto';
import { resetApp } from '../../src/composition-root';
import { call, expectOk, fund, newUser, type TestUser } from '../support/invoke';
import { adminToken } from '../support/tokens';
import { startFakeEventBridge, type FakeEventBridge, type ReceivedEvent } from '../support/fake-eventbridge';
import { handler as relay } from '../../functions/publish-events';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
let bus: FakeEventBridge;
let admin: string;
const saved = { ...process.env };

beforeAll(async () => {
  bus = await startFakeEventBridge();
  // A short claim lease: what a request's own try could not publish is the relay's a second later.
  Object.assign(process.env, bus.sdkEnv(), { EVENT_BUS_NAME: 'wallet-test', EVENTS_INLINE_BUDGET_MS: '2000', EVENTS_CLAIM_LEASE_SECONDS: '1' });
  await resetApp();
  admin = await adminToken(`admin-${randomUUID()}`);
});
afterAll(async () => {
  process.env = saved;
  await resetApp();
  await bus.close();
});
beforeEach(() => bus.reset());

/** The events about one resource, as [type, version], by version; each must be delivered exactly once here. */
const about = (id: string): Array<[string, number]> =>
  bus.events().filter((e) => (e.detail.data as { id: string }).id === id)
    .sort((a, b) => (a.detail.version as number) - (b.detail.version as number))
    .map((e) => [e.detailType, e.detail.version as number]);
const last = (id: string): ReceivedEvent | undefined => bus.events().filter((e) => (e.detail.data as { id: string }).id === id).at(-1);

describe('events (EVENT_BUS_NAME set, fake EventBridge)', () => {
  let alice: TestUser;
  let bob: TestUser;
  beforeAll(async () => {
    alice = await newUser('ev-a');
    bob = await newUser('ev-b');
  });

  it('a deposit the gateway accepts at once is pending (v1) then completed (v2), published before the 201; Detail is the API resource', async () => {
    const deposit = await fund(alice, 1_000);
    expect(about(deposit.id)).toEqual([['transaction.pending', 1], ['transaction.completed', 2]]);
    const e = last(deposit.id) as ReceivedEvent;
    expect(e).toMatchObject({ source: 'wallet', busName: 'wallet-test', detailType: 'transaction.completed' });
    expect(e.detail).toEqual({ id: expect.any(String), type: 'transaction.completed', occurredAt: expect.any(String), version: 2, data: deposit });
    expect(JSON.stringify(e.detail)).not.toContain('paymentRef');
  });

  it('a transfer, a hold and its capture, a refund: one event per change, the original updated by its refund', async () => {
    await fund(alice, 1_000);
    const transfer = expectOk(await call('createTransfer', { token: alice.token, body: { toUserId: bob.id, amount: 300, currency: 'USD' } }), 201);
    const hold = expectOk(await call('createHold', { id: alice.id, token: alice.token, body: { amount: 200, currency: 'USD', toUserId: bob.id } }), 201);
    const capture = expectOk(await call('captureHold', { id: hold.id, token: bob.token, body: { amount: 150 } }), 201);
    const refund = expectOk(await call('createRefund', { id: transfer.id, token: bob.token, body: { amount: 100 } }), 201);
    expect(about(transfer.id)).toEqual([['transaction.completed', 1], ['transaction.updated', 2]]);
    expect(about(hold.id)).toEqual([['hold.created', 1], ['hold.captured', 2]]);
    expect(about(capture.id)).toEqual([['transaction.completed', 1]]);
    expect(about(refund.id)).toEqual([['transaction.completed', 1]]);
    expect(last(transfer.id)?.detail.data).toMatchObject({ id: transfer.id, refundedAmount: 100, status: 'completed' });
    expect(last(hold.id)?.detail.data).toEqual(expectOk(await call('getHold', { id: hold.id, token: alice.token })));
  });

  it('a refused request publishes nothing; an admin metadata edit is transaction.updated', async () => {
    const t = expectOk(await call('createTransfer', { token: alice.token, body: { toUserId: bob.id, amount: 1, currency: 'USD' } }), 201);
    bus.reset();
    const refused = await call('createWithdrawal', { id: alice.id, token: alice.token, body: { amount: 10 ** 11, currency: 'USD' } });
    expect(refused.status).toBe(422);
    expect(bus.events()).toEqual([]);
    expectOk(await call('updateTransaction', { id: t.id, token: admin, body: { metadata: { note: 'checked' } } }));
    expect(about(t.id)).toEqual([['transaction.updated', 2]]);
  });

  it('entries the bus refuses stay in the outbox until the scheduled relay sends them; none is lost', async () => {
    bus.failShare(1, 'InternalFailure');
    const w = expectOk(await call('createWithdrawal', { id: alice.id, token: alice.token, body: { amount: 5, currency: 'USD' } }), 201);
    expect(about(w.id)).toEqual([]);
    bus.failShare(0);
    await sleep(1_100);
    await relay();
    // At least once: a call the request's own try abandoned at its deadline may land late, so count distinct events.
    const distinct = (): string[] => [...new Set(bus.events().filter((e) => (e.detail.data as { id: string }).id === w.id).map((e) => `${e.detail.id as string} ${e.detailType} v${e.detail.version as number}`))];
    expect(distinct()).toEqual([expect.stringMatching(/ transaction\.completed v1$/)]);
    await relay();
    expect(distinct()).toHaveLength(1);
  });

  it('a bus that does not answer does not fail the request: the relay delivers afterwards', async () => {
    bus.failNextCalls(50, 'server_error');
    const w = expectOk(await call('createWithdrawal', { id: alice.id, token: alice.token, body: { amount: 6, currency: 'USD' } }), 201);
    expect(w.status).toBe('completed');
    bus.reset();
    await sleep(1_100);
    await relay();
    // At least once: a call abandoned at the request's deadline may still have landed, so duplicates (same event id) are allowed here.
    const delivered = bus.events().filter((e) => (e.detail.data as { id: string }).id === w.id);
    expect(delivered.length).toBeGreaterThanOrEqual(1);
    expect(new Set(delivered.map((e) => e.detail.id)).size).toBe(1);
    expect(delivered[0]?.detail).toMatchObject({ type: 'transaction.completed', version: 1 });
  });
});
