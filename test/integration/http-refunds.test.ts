// Refunds through their Lambda handler (POST /transactions/{id}/refunds) with real API
// Gateway v2 events, on the memory store and the built-in fake gateway.
import '../support/memory-http-env';

import { randomUUID } from 'node:crypto';
import { resetApp } from '../../src/composition-root';
import { sharedFakeGatewayState } from '../../src/adapters/payment-gateway/fake-payment-gateway';
import {
  call, expectError, expectOk, fund, newUser, storedState, type HttpResponse, type TestUser,
} from '../support/invoke';
import { startSandboxGateway } from '../support/sandbox-gateway';
import { adminToken } from '../support/tokens';

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[47][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let admin: string;
beforeAll(async () => {
  admin = await adminToken(`admin-${randomUUID()}`);
});
afterAll(() => resetApp());

type Body = Record<string, unknown> | string;
const refund = (token: string, id: string, body: Body = {}, headers?: Record<string, string>) =>
  call('createRefund', { id, token, body, ...(headers && { headers }) });
const transfer = async (from: TestUser, to: TestUser, amount: number) =>
  expectOk(await call('createTransfer', { token: from.token, body: { toUserId: to.id, amount, currency: 'USD' } }), 201);
const withdraw = async (u: TestUser, amount: number) =>
  expectOk(await call('createWithdrawal', { id: u.id, token: u.token, body: { amount, currency: 'USD' } }), 201);
const deposit = async (u: TestUser, amount: number, paymentToken: string) =>
  expectOk(await call('createDeposit', { id: u.id, token: u.token, body: { amount, currency: 'USD', paymentToken } }), 201);
const available = async (u: TestUser): Promise<number> =>
  (expectOk(await call('getUser', { id: u.id, token: u.token })).balances as Array<{ currency: string; available: number }>)
    .find((b) => b.currency === 'USD')?.available ?? 0;
const read = async (id: string) => expectOk(await call('getTransaction', { id, token: admin }));
/** A sender with 1000 who paid `amount` to a new payee. */
const paid = async (amount = 300) => {
  const [sender, payee] = [await newUser('snd'), await newUser('pay')];
  await fund(sender, 1000);
  return { sender, payee, tx: await transfer(sender, payee, amount) };
};

describe('refunds of transfers', () => {
  it('the payee refunds the whole transfer by default: money back to the sender, one refund in both histories', async () => {
    const { sender, payee, tx } = await paid();
    const r = expectOk(await refund(payee.token, tx.id, { metadata: { reason: 'returned' } }), 201);
    expect(r).toEqual({
      id: expect.stringMatching(UUID), type: 'refund', status: 'completed', userId: payee.id, toUserId: sender.id, amount: 300,
      currency: 'USD', metadata: { reason: 'returned' }, createdAt: expect.stringMatching(ISO_MS), updatedAt: r.createdAt, refundOf: tx.id,
    });
    expect([await available(sender), await available(payee)]).toEqual([1000, 0]);
    // The original keeps its status and shows what refunds took back.
    expect(await read(tx.id)).toEqual({ ...tx, refundedAmount: 300, updatedAt: expect.stringMatching(ISO_MS) });
    for (const u of [sender, payee]) {
      const refunds = expectOk(await call('listTransactions', { id: u.id, token: u.token, query: { type: 'refund' } }));
      expect(refunds).toEqual({ data: [r], nextCursor: null });
    }
    expect(expectOk(await call('getTransaction', { id: r.id, token: sender.token }))).toEqual(r);
  });

  it('partial refunds add up to at most the original: 422 refund_exceeds_amount beyond, and the default is what is left', async () => {
    const { sender, payee, tx } = await paid(300);
    expect(expectOk(await refund(payee.token, tx.id, { amount: 100 }), 201).amount).toBe(100);
    expect(expectOk(await refund(payee.token, tx.id, { amount: 150 }), 201).amount).toBe(150);
    const before = await storedState([sender.id, payee.id]);
    expectError(await refund(payee.token, tx.id, { amount: 51 }), 422, 'refund_exceeds_amount', 'amount');
    expect(await storedState([sender.id, payee.id])).toEqual(before);
    expect(expectOk(await refund(payee.token, tx.id), 201).amount).toBe(50);
    expectError(await refund(payee.token, tx.id), 422, 'refund_exceeds_amount', 'amount');
    expectError(await refund(payee.token, tx.id, { amount: 1 }), 422, 'refund_exceeds_amount', 'amount');
    expect(await read(tx.id)).toMatchObject({ status: 'completed', refundedAmount: 300 });
    expect([await available(sender), await available(payee)]).toEqual([1000, 0]);
  });

  it('422 insufficient_funds when the payee no longer has the money: nothing moves', async () => {
    const { sender, payee, tx } = await paid(300);
    await withdraw(payee, 250);
    const before = await storedState([sender.id, payee.id]);
    expectError(await refund(payee.token, tx.id), 422, 'insufficient_funds', 'amount');
    expect(await storedState([sender.id, payee.id])).toEqual(before);
    expect(expectOk(await refund(payee.token, tx.id, { amount: 50 }), 201).amount).toBe(50);
  });

  it('the sender is 403, a stranger 404 (like a missing transaction), an admin may', async () => {
    const { sender, payee, tx } = await paid(300);
    const stranger = await newUser('str');
    const before = await storedState([sender.id, payee.id, stranger.id]);
    expectError(await refund(sender.token, tx.id), 403, 'forbidden');
    const hidden = await refund(stranger.token, tx.id);
    const missing = await refund(stranger.token, randomUUID());
    expectError(hidden, 404, 'not_found');
    expectError(missing, 404, 'not_found');
    expect(hidden.body.error.message).toBe(missing.body.error.message);
    expect(await storedState([sender.id, payee.id, stranger.id])).toEqual(before);
    expect(expectOk(await refund(admin, tx.id, { amount: 10 }), 201)).toMatchObject({ userId: payee.id, toUserId: sender.id, amount: 10 });
  });

  it('a captured hold with a payee is a transfer the payee may refund', async () => {
    const [payer, payee] = [await newUser('hp'), await newUser('hq')];
    await fund(payer, 500);
    const hold = expectOk(await call('createHold', { id: payer.id, token: payer.token, body: { amount: 200, currency: 'USD', toUserId: payee.id } }), 201);
    const capture = expectOk(await call('captureHold', { id: hold.id, token: payee.token, body: {} }), 201);
    const r = expectOk(await refund(payee.token, capture.id, { amount: 80 }), 201);
    expect(r).toMatchObject({ refundOf: capture.id, userId: payee.id, toUserId: payer.id, amount: 80 });
    expect(r).not.toHaveProperty('holdId');
    expect(await read(capture.id)).toMatchObject({ holdId: hold.id, refundedAmount: 80 });
    expect([await available(payer), await available(payee)]).toEqual([380, 120]);
  });
});

describe('refunds of withdrawals and deposits', () => {
  it('only an admin refunds a withdrawal: the owner is credited back, completed', async () => {
    const u = await newUser('wd');
    await fund(u, 500);
    const w = await withdraw(u, 200);
    const before = await storedState([u.id]);
    expectError(await refund(u.token, w.id), 403, 'forbidden');
    expect(await storedState([u.id])).toEqual(before);
    const r = expectOk(await refund(admin, w.id, { amount: 120 }), 201);
    expect(r).toMatchObject({ type: 'refund', status: 'completed', userId: u.id, amount: 120, refundOf: w.id });
    expect(r).not.toHaveProperty('toUserId');
    expect(await available(u)).toBe(420);
    expect(await read(w.id)).toMatchObject({ status: 'completed', refundedAmount: 120 });
  });

  it('the owner of a deposit may not refund it (403); nor anyone else (404)', async () => {
    const [u, stranger] = [await newUser('dep'), await newUser('dstr')];
    const d = await fund(u, 500);
    const before = await storedState([u.id]);
    expectError(await refund(u.token, d.id), 403, 'forbidden');
    expectError(await refund(stranger.token, d.id), 404, 'not_found');
    expect(await storedState([u.id])).toEqual(before);
  });

  it('422 invalid_state_transition for a pending or failed deposit and for a refund, nothing moves', async () => {
    const u = await newUser('inv');
    await fund(u, 500);
    const pending = await deposit(u, 100, 'tok_pending');
    const declined = await call('createDeposit', { id: u.id, token: u.token, body: { amount: 100, currency: 'USD', paymentToken: 'tok_declined' } });
    const failed = declined.body.error.transactionId as string;
    const w = await withdraw(u, 10);
    const r = expectOk(await refund(admin, w.id), 201);
    const before = await storedState([u.id]);
    for (const id of [pending.id, failed, r.id]) {
      const res = await refund(admin, id);
      expectError(res, 422, 'invalid_state_transition');
    }
    expect(await storedState([u.id])).toEqual(before);
    expect(await read(pending.id)).toMatchObject({ status: 'pending', refundedAmount: 0 });
  });
});

describe('bad input is 400 naming it, and nothing moves', () => {
  it.each([
    [{ amount: 0 }, 'amount'], [{ amount: -5 }, 'amount'], [{ amount: 1.5 }, 'amount'], [{ amount: '10' }, 'amount'],
    [{ amount: null }, 'amount'], [{ amount: 100_000_000_001 }, 'amount'], [{ amount: [10] }, 'amount'],
    ['{"amount":0.99999999999999999}', 'amount'], ['{"amount":9.99999999999999999e1}', 'amount'],
    [{ metadata: { k: 1 } }, 'metadata.k'], [{ metadata: 'x' }, 'metadata'], [{ metadata: { k: 'x'.repeat(501) } }, 'metadata.k'],
    [{ currency: 'USD' }, 'currency'], [{ refundOf: 'x' }, 'refundOf'], [{ toUserId: 'x' }, 'toUserId'], [{ status: 'completed' }, 'status'],
  ])('%j (param %s)', async (body, param) => {
    const { sender, payee, tx } = await paid(300);
    const before = await storedState([sender.id, payee.id]);
    expectError(await refund(payee.token, tx.id, body), 400, 'invalid_request', param);
    expect(await storedState([sender.id, payee.id])).toEqual(before);
  });

  it('400 for a missing or non-object body, 415 for another content type', async () => {
    const { sender, payee, tx } = await paid(300);
    const before = await storedState([sender.id, payee.id]);
    expectError(await call('createRefund', { id: tx.id, token: payee.token }), 400, 'invalid_request');
    for (const body of ['[]', 'null', '{', '7']) expectError(await refund(payee.token, tx.id, body), 400, 'invalid_request');
    expectError(await call('createRefund', { id: tx.id, token: payee.token, body: '{}', contentType: 'text/plain' }), 415, 'unsupported_media_type', 'Content-Type');
    expect(await storedState([sender.id, payee.id])).toEqual(before);
  });

  it.each(['not-a-uuid', '1', "' OR '1'='1", '..', 'a'.repeat(300)])('404 for the malformed id %j', async (id) => {
    expectError(await refund(admin, id), 404, 'not_found');
  });
});

describe('idempotent replays', () => {
  const key = () => `key-${randomUUID()}`;
  const same = (r: HttpResponse) => (r.body.error ? { error: { ...r.body.error, requestId: 'r' } } : r.body);

  it('the same key and body refund once; another body, original or route is 422 idempotency_key_reused', async () => {
    const { sender, payee, tx } = await paid(300);
    const other = await transfer(sender, payee, 10);
    const k = key();
    const first = await refund(payee.token, tx.id, { amount: 100 }, { 'Idempotency-Key': k });
    expectOk(first, 201);
    const again = await refund(payee.token, tx.id, { amount: 100 }, { 'Idempotency-Key': k });
    expect([again.status, again.body, again.headers['idempotent-replayed']]).toEqual([201, first.body, 'true']);
    expect(await read(tx.id)).toMatchObject({ refundedAmount: 100 });
    const before = await storedState([sender.id, payee.id]);
    for (const [id, body] of [[tx.id, { amount: 101 }], [tx.id, {}], [tx.id, { amount: 100, metadata: { a: 'b' } }], [other.id, { amount: 100 }]] as const) {
      expectError(await refund(payee.token, id, body, { 'Idempotency-Key': k }), 422, 'idempotency_key_reused', 'Idempotency-Key');
    }
    expectError(await call('createWithdrawal', { id: payee.id, token: payee.token, body: { amount: 1, currency: 'USD' }, headers: { 'Idempotency-Key': k } }), 422, 'idempotency_key_reused', 'Idempotency-Key');
    expect(await storedState([sender.id, payee.id])).toEqual(before);
  });

  it('a refused refund is replayed as the same 4xx, even once it would succeed', async () => {
    const { payee, tx } = await paid(300);
    await withdraw(payee, 300);
    const k = key();
    const first = await refund(payee.token, tx.id, { amount: 100 }, { 'Idempotency-Key': k });
    expectError(first, 422, 'insufficient_funds', 'amount');
    await fund(payee, 500);
    const again = await refund(payee.token, tx.id, { amount: 100 }, { 'Idempotency-Key': k });
    expect([again.status, same(again), again.headers['idempotent-replayed']]).toEqual([422, same(first), 'true']);
    expect(await read(tx.id)).toMatchObject({ refundedAmount: 0 });
  });

  it('400 param Idempotency-Key for a bad key, no effect', async () => {
    const { sender, payee, tx } = await paid(300);
    const before = await storedState([sender.id, payee.id]);
    for (const k of ['k'.repeat(256), 'clé', '']) {
      expectError(await refund(payee.token, tx.id, {}, { 'Idempotency-Key': k }), 400, 'invalid_request', 'Idempotency-Key');
    }
    expect(await storedState([sender.id, payee.id])).toEqual(before);
  });
});

describe('refunds of deposits at the payment gateway (built-in fake)', () => {
  it('an admin refunds a deposit: debited first, refunded at the gateway with the refund id as its key, completed', async () => {
    const u = await newUser('dr');
    const d = await deposit(u, 500, 'tok_ok');
    const r = expectOk(await refund(admin, d.id, { amount: 200 }), 201);
    expect(r).toMatchObject({ type: 'refund', status: 'completed', userId: u.id, amount: 200, refundOf: d.id });
    expect(r).not.toHaveProperty('toUserId');
    expect(sharedFakeGatewayState().refunds.get(r.id)).toMatchObject({ status: 'succeeded', refunded: 200, request: { depositId: d.id, amount: 200 } });
    expect(await available(u)).toBe(300);
    expect(await read(d.id)).toMatchObject({ status: 'completed', refundedAmount: 200 });
    expect(JSON.stringify(r)).not.toMatch(/paymentRef|re_/);
  });

  it('422 insufficient_funds when the deposit was spent: the gateway is not asked', async () => {
    const u = await newUser('drs');
    const d = await deposit(u, 500, 'tok_ok');
    await withdraw(u, 400);
    const refunds = sharedFakeGatewayState().refunds.size;
    const before = await storedState([u.id]);
    expectError(await refund(admin, d.id), 422, 'insufficient_funds', 'amount');
    expect(await storedState([u.id])).toEqual(before);
    expect(sharedFakeGatewayState().refunds.size).toBe(refunds);
  });

  it('tok_refund_pending: 201 pending, the money stays debited; an admin PATCH settles it (failed credits the owner back)', async () => {
    const u = await newUser('drp');
    const d = await deposit(u, 500, 'tok_refund_pending');
    const r1 = expectOk(await refund(admin, d.id, { amount: 100 }), 201);
    const r2 = expectOk(await refund(admin, d.id, { amount: 150 }), 201);
    expect([r1.status, r2.status]).toEqual(['pending', 'pending']);
    expect(await available(u)).toBe(250);
    // Pending refunds count: only what is left can still be refunded.
    expectError(await refund(admin, d.id, { amount: 251 }), 422, 'refund_exceeds_amount', 'amount');
    expect(await read(d.id)).toMatchObject({ refundedAmount: 250 });
    expect(expectOk(await call('listTransactions', { id: u.id, token: u.token, query: { type: 'refund', status: 'pending' } })).data).toHaveLength(2);

    expect(expectOk(await call('updateTransaction', { id: r1.id, token: admin, body: { status: 'completed' } })).status).toBe('completed');
    expect(await available(u)).toBe(250);
    expect(expectOk(await call('updateTransaction', { id: r2.id, token: admin, body: { status: 'failed' } })).status).toBe('failed');
    expect(await available(u)).toBe(400);
    expect(await read(d.id)).toMatchObject({ status: 'completed', refundedAmount: 100 });
    expectError(await call('updateTransaction', { id: r1.id, token: admin, body: { status: 'failed' } }), 422, 'invalid_state_transition', 'status');
  });

  it('tok_refund_declined: 402 payment_failed naming the failed refund, the owner credited back; the key replays it', async () => {
    const u = await newUser('drd');
    const d = await deposit(u, 500, 'tok_refund_declined');
    const k = `key-${randomUUID()}`;
    const res = await refund(admin, d.id, { amount: 200 }, { 'Idempotency-Key': k });
    expectError(res, 402, 'payment_failed', undefined);
    const failed = res.body.error.transactionId as string;
    expect(await read(failed)).toMatchObject({ type: 'refund', status: 'failed', amount: 200, refundOf: d.id });
    expect(await available(u)).toBe(500);
    expect(await read(d.id)).toMatchObject({ refundedAmount: 0 });
    const again = await refund(admin, d.id, { amount: 200 }, { 'Idempotency-Key': k });
    expectError(again, 402, 'payment_failed', undefined);
    expect([again.body.error.transactionId, again.headers['idempotent-replayed']]).toEqual([failed, 'true']);
    expect(expectOk(await call('listTransactions', { id: u.id, token: u.token, query: { type: 'refund' } })).data).toHaveLength(1);
  });
});

describe('502 payment_gateway_error on a deposit refund (HTTP gateway adapter against the local sandbox)', () => {
  const apiKey = 'sk_test_refunds_0001';
  let sandbox: Awaited<ReturnType<typeof startSandboxGateway>>;
  beforeAll(async () => {
    sandbox = await startSandboxGateway({ apiKey });
    Object.assign(process.env, { PAYMENT_API_URL: sandbox.url, PAYMENT_API_KEY: apiKey, PAYMENT_MAX_RETRIES: '0' });
  });
  afterAll(async () => {
    for (const k of ['PAYMENT_API_URL', 'PAYMENT_API_KEY', 'PAYMENT_MAX_RETRIES']) delete process.env[k];
    await sandbox.close();
  });

  it('the refund stays pending (money debited), the 502 names it, and a retry with the same key finishes it once', async () => {
    const u = await newUser('gwr');
    const d = await deposit(u, 500, 'tok_ok');
    const k = `key-${randomUUID()}`;
    sandbox.setFault({ kind: 'status', status: 500, times: 5 });
    const res = await refund(admin, d.id, { amount: 120 }, { 'Idempotency-Key': k });
    sandbox.setFault();
    expectError(res, 502, 'payment_gateway_error');
    expect(res.raw).not.toContain(sandbox.url);
    const pendingId = res.body.error.transactionId as string;
    expect(res.body.error.message).toContain(pendingId);
    expect(await read(pendingId)).toMatchObject({ type: 'refund', status: 'pending', amount: 120, refundOf: d.id });
    expect(await available(u)).toBe(380);
    const retry = await refund(admin, d.id, { amount: 120 }, { 'Idempotency-Key': k });
    expect(expectOk(retry, 201)).toMatchObject({ id: pendingId, status: 'completed' });
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
    expect(await available(u)).toBe(380);
    expect(await read(d.id)).toMatchObject({ refundedAmount: 120 });
    expect(expectOk(await call('listTransactions', { id: u.id, token: u.token, query: { type: 'refund' } })).data).toHaveLength(1);
  });
});
