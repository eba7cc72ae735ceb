// Proof 3 — idempotency under concurrency, over HTTP: 50 simultaneous identical
// requests with one key make exactly one effect; each answer is the same 201 (all but
// the first marked Idempotent-Replayed: true) or 409 idempotency_key_in_use. The key
// then refuses a different body (422 idempotency_key_reused), and a key whose first
// attempt ended in a 4xx replays that 4xx even after the account could afford it.
import { randomUUID } from 'node:crypto';
import { BankClient, type Reply } from '../support/bank-client';
import type { OfflineServer } from '../support/offline';
import { startSandboxGateway, type SandboxGateway } from '../support/sandbox-gateway';
import { describeOn, startProofServer, type Backend } from './backends';

const RACERS = 50;
const SANDBOX_KEY = 'sk_test_proof_idempotency';

interface RaceResult {
  first: Reply;
  created: number;
  replayed: number;
  inUse: number;
}

export const describeIdempotencyRace = (backend: Backend): void =>
  describeOn('idempotency under concurrency', backend, () => {
    let server: OfflineServer | undefined;
    let sandbox: SandboxGateway;
    let client: BankClient;
    const verified: string[] = [];
    const tally = { requests: 0, created: 0, replayed: 0, inUse: 0, reused: 0, replayed4xx: 0 };

    beforeAll(async () => {
      sandbox = await startSandboxGateway({ apiKey: SANDBOX_KEY });
      server = await startProofServer(backend, { PAYMENT_API_URL: sandbox.url, PAYMENT_API_KEY: SANDBOX_KEY });
      client = new BankClient(server.url);
    }, 120_000);
    afterAll(async () => {
      console.log(
        [
          `PROOF idempotency under concurrency on ${backend.storage}`,
          `  requests sent: ${tally.requests}; 201 originals: ${tally.created}, 201 replays: ${tally.replayed}, 409 idempotency_key_in_use: ${tally.inUse}, 422 idempotency_key_reused: ${tally.reused}, replayed 4xx: ${tally.replayed4xx}`,
          `  HTTP attempts: ${client?.stats.attempts}, retries (same key): ${client?.stats.retries}`,
          '  invariants checked:',
          ...verified.map((v) => `    ✓ ${v}`),
        ].join('\n'),
      );
      await server?.stop();
      await sandbox?.close();
      await backend.cleanup?.();
    });

    const newUser = async (name: string): Promise<{ id: string; token: string }> => {
      const id = `proof-idem-${name}-${randomUUID().slice(0, 8)}`;
      await client.createUser(id);
      return { id, token: await client.token(id) };
    };
    const fund = async (u: { id: string; token: string }, amount: number): Promise<void> => {
      const r = await client.send('POST', `/users/${u.id}/deposits`, { token: u.token, idempotencyKey: randomUUID(), body: { amount, currency: 'USD' } });
      expect(r.status).toBe(201);
    };
    const historyIds = async (userId: string): Promise<string[]> => (await client.history(userId)).items.map((t) => t.id as string);

    /** Fires RACERS identical requests at once (no retries) and checks every answer; then one more, retried, must replay. */
    const race = async (path: string, token: string, key: string, body: unknown, status = 201): Promise<RaceResult> => {
      const replies = await Promise.all(Array.from({ length: RACERS }, () => client.once('POST', path, { token, idempotencyKey: key, body })));
      tally.requests += replies.length;
      const created = replies.filter((r) => r.status === status);
      const inUse = replies.filter((r) => r.status === 409 && r.body?.error?.code === 'idempotency_key_in_use');
      const other = replies.filter((r) => !created.includes(r) && !inUse.includes(r)).map((r) => `${r.status} ${JSON.stringify(r.body)}`);
      expect(other).toEqual([]);
      expect(created.length).toBeGreaterThanOrEqual(1);
      const originals = created.filter((r) => r.headers.get('idempotent-replayed') !== 'true');
      expect(originals).toHaveLength(1);
      const first = originals[0] as Reply;
      for (const r of created) expect(r.body).toEqual(first.body);
      // Once the first request finished, the key only ever replays it.
      const late = await client.send('POST', path, { token, idempotencyKey: key, body });
      tally.requests += late.attempts.length;
      expect(late.status).toBe(status);
      expect(late.headers.get('idempotent-replayed')).toBe('true');
      expect(late.body).toEqual(first.body);
      tally.created += 1;
      tally.replayed += created.length - 1 + 1;
      tally.inUse += inUse.length;
      return { first, created: created.length, replayed: created.length - 1, inUse: inUse.length };
    };

    /** The same key with another body, or on another route: 422 idempotency_key_reused. */
    const reuse = async (method: string, path: string, token: string, key: string, body: unknown): Promise<void> => {
      const r = await client.send(method, path, { token, idempotencyKey: key, body });
      tally.requests += r.attempts.length;
      expect([r.status, r.body?.error?.code]).toEqual([422, 'idempotency_key_reused']);
      tally.reused++;
    };

    it(`transfer: ${RACERS} simultaneous identical requests with one key move the money once`, async () => {
      const [a, b] = [await newUser('a'), await newUser('b')];
      await fund(a, 1_000);
      const key = randomUUID();
      const body = { toUserId: b.id, amount: 300, currency: 'USD' };
      const r = await race('/transfers', a.token, key, body);
      expect(r.first.body).toMatchObject({ type: 'transfer', status: 'completed', userId: a.id, toUserId: b.id, amount: 300 });
      await reuse('POST', '/transfers', a.token, key, { ...body, amount: 301 });
      await reuse('POST', `/users/${a.id}/withdrawals`, a.token, key, { amount: 300, currency: 'USD' });
      expect(await client.balance(a.id)).toBe(700);
      expect(await client.balance(b.id)).toBe(300);
      expect((await historyIds(a.id)).filter((id) => id === r.first.body.id)).toHaveLength(1);
      expect(await historyIds(a.id)).toHaveLength(2);
      expect(await historyIds(b.id)).toEqual([r.first.body.id]);
      verified.push(`transfer: ${RACERS} racers → ${r.created} × 201 (1 original, ${r.replayed} Idempotent-Replayed with the identical body), ${r.inUse} × 409 idempotency_key_in_use; moved once (700/300); other body and other route with the key → 422 idempotency_key_reused, no effect`);
    });

    it(`withdrawal: ${RACERS} simultaneous identical requests with one key debit once`, async () => {
      const a = await newUser('w');
      await fund(a, 1_000);
      const key = randomUUID();
      const r = await race(`/users/${a.id}/withdrawals`, a.token, key, { amount: 250, currency: 'USD' });
      expect(r.first.body).toMatchObject({ type: 'withdrawal', status: 'completed', userId: a.id, amount: 250 });
      await reuse('POST', `/users/${a.id}/withdrawals`, a.token, key, { amount: 250, currency: 'EUR' });
      expect(await client.balance(a.id)).toBe(750);
      expect(await historyIds(a.id)).toHaveLength(2);
      verified.push(`withdrawal: ${RACERS} racers → ${r.created} × 201 (1 original), ${r.inUse} × 409; debited once (750); other body → 422, no effect`);
    });

    it(`deposit: ${RACERS} simultaneous identical requests with one key charge once and credit once`, async () => {
      const a = await newUser('d');
      const key = randomUUID();
      const before = Object.keys(sandbox.stats().charges).length;
      const r = await race(`/users/${a.id}/deposits`, a.token, key, { amount: 420, currency: 'USD', paymentToken: 'tok_ok' });
      expect(r.first.body).toMatchObject({ type: 'deposit', status: 'completed', userId: a.id, amount: 420 });
      await reuse('POST', `/users/${a.id}/deposits`, a.token, key, { amount: 420, currency: 'USD', paymentToken: 'tok_pending' });
      expect(await client.balance(a.id)).toBe(420);
      expect(await historyIds(a.id)).toEqual([r.first.body.id]);
      const stats = sandbox.stats();
      expect(stats.charges[r.first.body.id]).toBe(1);
      expect(Object.keys(stats.charges).length - before).toBe(1);
      verified.push(`deposit: ${RACERS} racers → ${r.created} × 201 (1 original), ${r.inUse} × 409; the gateway charged once, balance credited once (420); other body → 422, no effect`);
    });

    const usd = async (userId: string): Promise<{ available: number; held: number }> => {
      const r = await client.send('GET', `/users/${userId}`, { token: await client.token(userId) });
      const b = (r.body.balances as Array<{ currency: string; available: number; held: number }>).find((x) => x.currency === 'USD');
      return { available: b?.available ?? 0, held: b?.held ?? 0 };
    };

    it(`holds: ${RACERS} identical hold requests hold once; ${RACERS} identical captures capture once; ${RACERS} identical voids void once`, async () => {
      const [a, b] = [await newUser('ha'), await newUser('hb')];
      await fund(a, 1_000);
      const h = await race(`/users/${a.id}/holds`, a.token, randomUUID(), { amount: 300, currency: 'USD', toUserId: b.id });
      expect(h.first.body).toMatchObject({ status: 'held', userId: a.id, toUserId: b.id, amount: 300 });
      expect(await usd(a.id)).toEqual({ available: 700, held: 300 });
      const c = await race(`/holds/${h.first.body.id}/capture`, b.token, randomUUID(), { amount: 200 });
      expect(c.first.body).toMatchObject({ type: 'transfer', status: 'completed', amount: 200, holdId: h.first.body.id });
      expect(await usd(a.id)).toEqual({ available: 800, held: 0 });
      expect(await usd(b.id)).toEqual({ available: 200, held: 0 });
      const other = await race(`/users/${a.id}/holds`, a.token, randomUUID(), { amount: 100, currency: 'USD' });
      const v = await race(`/holds/${other.first.body.id}/void`, a.token, randomUUID(), {}, 200);
      expect(v.first.body).toMatchObject({ status: 'voided', amount: 100 });
      expect(await usd(a.id)).toEqual({ available: 800, held: 0 });
      expect((await historyIds(b.id)).filter((id) => id === c.first.body.id)).toHaveLength(1);
      verified.push(`holds: ${RACERS} racers each on create (${h.created} × 201, 1 original), capture (${c.created} × 201) and void (${v.created} × 200): one hold, one capture, one void; balances and held exact (800/0, 200/0)`);
    });

    it(`refunds: ${RACERS} identical refund requests refund once; a deposit refund asks the gateway once`, async () => {
      const [a, b] = [await newUser('ra'), await newUser('rb')];
      await fund(a, 1_000);
      const t = await client.send('POST', '/transfers', { token: a.token, idempotencyKey: randomUUID(), body: { toUserId: b.id, amount: 400, currency: 'USD' } });
      expect(t.status).toBe(201);
      const r = await race(`/transactions/${t.body.id}/refunds`, b.token, randomUUID(), { amount: 150 });
      expect(r.first.body).toMatchObject({ type: 'refund', status: 'completed', refundOf: t.body.id, userId: b.id, toUserId: a.id, amount: 150 });
      expect(await usd(a.id)).toEqual({ available: 750, held: 0 });
      expect(await usd(b.id)).toEqual({ available: 250, held: 0 });
      const deposit = (await client.history(a.id)).items.find((x) => x.type === 'deposit') as { id: string };
      const admin = await client.token('proof-idem-admin', true);
      const d = await race(`/transactions/${deposit.id}/refunds`, admin, randomUUID(), { amount: 50 });
      expect(d.first.body).toMatchObject({ type: 'refund', status: 'completed', refundOf: deposit.id, amount: 50 });
      expect(sandbox.stats().refundRequests[d.first.body.id as string]).toBe(1);
      expect(sandbox.stats().refunded[d.first.body.id as string]).toBe(50);
      expect(await usd(a.id)).toEqual({ available: 700, held: 0 });
      verified.push(`refunds: ${RACERS} racers on a transfer refund (${r.created} × 201, 1 original) and on a deposit refund (${d.created} × 201): each refunded once; the gateway got one refund request and refunded 50 once`);
    });

    it('a key whose first attempt ended 422 insufficient_funds replays that 422 after the account is funded', async () => {
      const [a, b] = [await newUser('poor'), await newUser('payee')];
      await fund(a, 100);
      const wKey = randomUUID();
      const tKey = randomUUID();
      const withdrawal = { path: `/users/${a.id}/withdrawals`, body: { amount: 500, currency: 'USD' } };
      const transfer = { path: '/transfers', body: { toUserId: b.id, amount: 500, currency: 'USD' } };
      const w1 = await client.send('POST', withdrawal.path, { token: a.token, idempotencyKey: wKey, body: withdrawal.body });
      const t1 = await client.send('POST', transfer.path, { token: a.token, idempotencyKey: tKey, body: transfer.body });
      for (const r of [w1, t1]) expect([r.status, r.body?.error?.code]).toEqual([422, 'insufficient_funds']);
      await fund(a, 10_000);
      for (const [key, op, first] of [[wKey, withdrawal, w1], [tKey, transfer, t1]] as const) {
        const again = await client.send('POST', op.path, { token: a.token, idempotencyKey: key, body: op.body });
        tally.requests += again.attempts.length;
        expect([again.status, again.body?.error?.code]).toEqual([422, 'insufficient_funds']);
        expect(again.headers.get('idempotent-replayed')).toBe('true');
        expect({ ...again.body.error, requestId: undefined }).toEqual({ ...first.body.error, requestId: undefined });
        tally.replayed4xx++;
      }
      expect(await client.balance(a.id)).toBe(10_100);
      expect(await client.balance(b.id)).toBe(0);
      expect(await historyIds(a.id)).toHaveLength(2); // the two deposits only
      expect(await historyIds(b.id)).toEqual([]);
      verified.push('withdrawal and transfer keys whose first attempt was 422 insufficient_funds replay that 422 (Idempotent-Replayed: true) after funding; nothing moved, no transaction stored');
    });
  });
