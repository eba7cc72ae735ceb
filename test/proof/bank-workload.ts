// Proof 1 — the bank workload over HTTP: 14 accounts funded by deposits, ~2000 random
// transfers and withdrawals at 32-way concurrency, then every invariant of the
// ledger checked from the outside. Plus a hot account: 5N concurrent debits against
// a balance that covers exactly N.
import { randomUUID } from 'node:crypto';
import { BankClient } from '../support/bank-client';
import type { OfflineServer } from '../support/offline';
import { describeOn, prng, seedFromEnv, startProofServer, type Backend } from './backends';
import { CURRENCY, newOp, openBank, printReport, randomOps, runConcurrently, verifyBank } from './bank-model';
import { HOLDS, runHoldsWorkload } from './holds-workload';

export const BANK = { accounts: 14, initial: 5_000, ops: 2_000, concurrency: 32 };

export const describeBankWorkload = (backend: Backend): void =>
  describeOn('bank workload', backend, () => {
    let server: OfflineServer | undefined;
    let client: BankClient;

    beforeAll(async () => {
      server = await startProofServer(backend);
      client = new BankClient(server.url);
    }, 120_000);
    afterAll(async () => {
      await server?.stop();
      await backend.cleanup?.();
    });

    it(`keeps every invariant over ${BANK.ops} random transfers and withdrawals at ${BANK.concurrency}-way concurrency`, async () => {
      const seed = seedFromEnv();
      const run = randomUUID().slice(0, 8);
      const { accounts, deposits } = await openBank(client, run, BANK.accounts, BANK.initial);
      const ops = randomOps(prng(seed), accounts, { ops: BANK.ops, withdrawals: 0.15, deposits: 0, maxTransfer: 2_000, maxWithdrawal: 300, maxDeposit: 0 });
      const started = Date.now();
      await runConcurrently(client, ops, BANK.concurrency);
      const elapsed = Date.now() - started;
      const report = await verifyBank(client, accounts, [...deposits, ...ops]);
      printReport(`bank workload on ${backend.storage}`, report, client, {
        seed: `${seed} (replay with PROOF_SEED=${seed})`,
        accounts: `${accounts.length}, each funded by one deposit of ${BANK.initial} ${CURRENCY}`,
        concurrency: BANK.concurrency,
        'workload time': `${elapsed} ms`,
      });
      // A workload where nothing is refused, or nothing succeeds, proves little.
      expect(report.byKind.transfer?.acknowledged).toBeGreaterThan(100);
      expect(report.refused).toBeGreaterThan(0);
    }, 240_000);

    it(`holds and refunds: ${HOLDS.holds} holds raced by ${HOLDS.racers} captures/voids each, partial refunds racing past the original, every invariant with held`, async () => {
      client = new BankClient(client.base);
      const seed = seedFromEnv();
      const report = await runHoldsWorkload(client, prng(seed));
      console.log([
        `PROOF holds and refunds on ${backend.storage} (seed ${seed}, replay with PROOF_SEED=${seed})`,
        `  outcomes: ${JSON.stringify(report.outcomes)}`,
        `  HTTP attempts: ${client.stats.attempts}, retries (same key): ${client.stats.retries}`,
        '  invariants checked:',
        ...report.invariants.map((i) => `    ✓ ${i}`),
      ].join('\n'));
    }, 240_000);

    it('hot account: of 5N concurrent debits against a balance covering exactly N, exactly N succeed', async () => {
      client = new BankClient(client.base);
      const N = 10;
      const amount = 100;
      const run = randomUUID().slice(0, 8);
      const [hot, sink] = [`proof-${run}-hot`, `proof-${run}-sink`];
      await client.createUser(hot);
      await client.createUser(sink);
      const funding = newOp(-1, 'deposit', hot, N * amount);
      await runConcurrently(client, [funding], 1);
      expect(funding.outcome?.status).toBe(201);
      // Half withdrawals, half transfers to another account: both paths debit the same balance.
      const debits = Array.from({ length: 5 * N }, (_, n) => (n % 2 === 0 ? newOp(n, 'withdrawal', hot, amount) : newOp(n, 'transfer', hot, amount, sink)));
      await runConcurrently(client, debits, 5 * N);
      const ok = debits.filter((d) => d.outcome?.status === 201);
      const refused = debits.filter((d) => d.outcome?.status === 422 && d.outcome.body?.error?.code === 'insufficient_funds');
      expect(ok).toHaveLength(N);
      expect(refused).toHaveLength(4 * N);
      const report = await verifyBank(client, [hot, sink], [funding, ...debits]);
      expect(await client.balance(hot)).toBe(0);
      printReport(`hot account on ${backend.storage}`, report, client, {
        'hot account': `funded ${N * amount}, ${5 * N} concurrent debits of ${amount} (withdrawals and transfers): ${ok.length} succeeded, ${refused.length} refused, final balance 0`,
      });
    }, 120_000);
  });
