// Idempotency when a key's lease runs out while its first request is still running
// (IDEMPOTENCY_LEASE_SECONDS=1, allowed because the functions are told a 1 s timeout
// while serverless-offline still gives them 15 s): a row lock held from outside keeps the first
// transfer waiting past its lease, the retry takes the key over, then the lock goes.
// The contract: "Same key while the first request is still running: 409
// idempotency_key_in_use, no effect" — the money may move once only.
import { randomUUID } from 'node:crypto';
import { BankClient } from '../support/bank-client';
import type { OfflineServer } from '../support/offline';
import { directClient } from '../support/postgres';
import { describeOn, postgresBackend, startProofServer } from './backends';

const database = 'wallet_proof_lease';
const backend = postgresBackend(database);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describeOn('idempotency lease takeover', backend, () => {
  let server: OfflineServer | undefined;
  let client: BankClient;
  beforeAll(async () => {
    server = await startProofServer(backend, { IDEMPOTENCY_LEASE_SECONDS: '1', FUNCTION_TIMEOUT_SECONDS: '1' });
    client = new BankClient(server.url);
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('a retry that takes over an expired lease while the first request still runs does not move the money twice', async () => {
    const [a, b] = [`proof-lease-a-${randomUUID().slice(0, 8)}`, `proof-lease-b-${randomUUID().slice(0, 8)}`];
    await client.createUser(a);
    await client.createUser(b);
    const token = await client.token(a);
    const dep = await client.send('POST', `/users/${a}/deposits`, { token, idempotencyKey: randomUUID(), body: { amount: 1_000, currency: 'USD' } });
    expect(dep.status).toBe(201);

    const key = randomUUID();
    const body = { toUserId: b, amount: 100, currency: 'USD' };
    const lock = await directClient(database);
    let replies;
    try {
      await lock.query('BEGIN');
      await lock.query(`SELECT 1 FROM balances WHERE user_id = $1 AND currency = 'USD' FOR UPDATE`, [a]);
      const first = client.once('POST', '/transfers', { token, idempotencyKey: key, body });
      await sleep(1_800); // the first request's 1 s lease has run out; it still waits on the row lock
      const second = client.once('POST', '/transfers', { token, idempotencyKey: key, body });
      await sleep(700);
      await lock.query('COMMIT');
      replies = await Promise.all([first, second]);
    } finally {
      await lock.query('ROLLBACK').catch(() => undefined);
      await lock.end();
    }
    const summary = replies.map((r) => `${r.status} ${r.body?.error?.code ?? r.body?.id} replayed=${r.headers.get('idempotent-replayed') ?? 'no'}`);
    const balanceA = await client.balance(a);
    const historyA = (await client.history(a)).items.filter((t) => t.type === 'transfer');
    console.log(
      [
        'PROOF idempotency lease takeover on postgres (IDEMPOTENCY_LEASE_SECONDS=1, first request held 2.5 s by a row lock)',
        `  answers: ${JSON.stringify(summary)}`,
        `  sender balance after: ${balanceA} (expected 900), transfers in sender history: ${historyA.length} (expected 1)`,
      ].join('\n'),
    );
    const originals = replies.filter((r) => r.status === 201 && r.headers.get('idempotent-replayed') !== 'true');
    expect(originals).toHaveLength(1);
    expect(balanceA).toBe(900);
    expect(historyA).toHaveLength(1);
  }, 60_000);
});
