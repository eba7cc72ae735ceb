// Proof 2 — the bank workload while things break: the payment gateway charges and
// then times out (the API's call gives up after charging), and per storage the
// connections are killed or the server goes away for a moment. Clients retry every
// logical op with the same Idempotency-Key until its outcome is final; afterwards
// every invariant of proof 1 holds, each op applied exactly once, and each deposit
// was charged by the gateway exactly once and credited exactly once.
import { randomUUID } from 'node:crypto';
import { BankClient } from '../support/bank-client';
import type { OfflineServer } from '../support/offline';
import { startSandboxGateway, type SandboxGateway } from '../support/sandbox-gateway';
import { describeOn, prng, seedFromEnv, startProofServer, type Backend } from './backends';
import { openBank, printReport, randomOps, runConcurrently, verifyBank } from './bank-model';

export interface Nemesis {
  name: string;
  /** Fires when this fraction of the op stream has started. */
  at: number;
  /** Does the damage (and heals it); returns what it did, for the log. */
  run: () => Promise<string>;
}

export interface StorageFaults {
  /** Settings for the API (e.g. Redis behind a proxy). */
  env?: Record<string, string>;
  nemeses: Nemesis[];
  /** Fails the test when the faults never bit (a fault test that cannot fail is a bug). */
  assertEffective?: () => void;
  close?: () => Promise<void>;
}

export const FAULTS = { accounts: 12, initial: 5_000, ops: 500, concurrency: 32 };
const SANDBOX_KEY = 'sk_test_proof_faults';
/** Each gateway fault: the next 6 gateway requests charge, then answer only after the API's 300 ms timeout. */
const GATEWAY_FAULT = { kind: 'timeout-after-processing', ms: 1_000, times: 6 } as const;

export const describeBankUnderFaults = (backend: Backend, storageFaults?: () => Promise<StorageFaults>): void =>
  describeOn('bank workload under faults', backend, () => {
    let server: OfflineServer | undefined;
    let sandbox: SandboxGateway;
    let faults: StorageFaults = { nemeses: [] };

    beforeAll(async () => {
      sandbox = await startSandboxGateway({ apiKey: SANDBOX_KEY });
      if (storageFaults) faults = await storageFaults();
      server = await startProofServer(backend, {
        PAYMENT_API_URL: sandbox.url,
        PAYMENT_API_KEY: SANDBOX_KEY,
        PAYMENT_TIMEOUT_MS: '300',
        PAYMENT_MAX_RETRIES: '1',
        PAYMENT_CIRCUIT_HALF_OPEN_MS: '1000',
        // Longer than any request can run (15 s function timeout; the deposit function's
        // 25 s cannot be used up with these gateway timeouts), so a takeover never races
        // a live request; short enough for a key orphaned by an outage to free up.
        FUNCTION_TIMEOUT_SECONDS: '15',
        IDEMPOTENCY_LEASE_SECONDS: '20',
        ...faults.env,
      });
    }, 120_000);
    afterAll(async () => {
      await server?.stop();
      await faults.close?.();
      await sandbox?.close();
      await backend.cleanup?.();
    });

    it(`applies each of ${FAULTS.ops} ops exactly once while the gateway times out after charging${storageFaults ? ' and the storage connections fail' : ''}`, async () => {
      const client = new BankClient(server?.url ?? '');
      const seed = seedFromEnv();
      const run = randomUUID().slice(0, 8);
      const log: string[] = [];

      // Funding deposits already meet a gateway that charges and then times out.
      sandbox.setFault(GATEWAY_FAULT);
      log.push(`gateway: ${GATEWAY_FAULT.times} × timeout-after-processing during funding`);
      const { accounts, deposits } = await openBank(client, run, FAULTS.accounts, FAULTS.initial);

      const ops = randomOps(prng(seed), accounts, { ops: FAULTS.ops, withdrawals: 0.15, deposits: 0.2, maxTransfer: 2_000, maxWithdrawal: 300, maxDeposit: 1_000 });
      const gatewayFault = (at: number): Nemesis => ({
        name: 'gateway timeout after charging',
        at,
        run: async () => {
          sandbox.setFault(GATEWAY_FAULT);
          return `gateway: next ${GATEWAY_FAULT.times} requests charge, then time out`;
        },
      });
      const schedule = [gatewayFault(0.1), ...faults.nemeses, gatewayFault(0.45), gatewayFault(0.8)].sort((a, b) => a.at - b.at);
      // Faults run one after another, never overlapping, while the workload goes on.
      let chain: Promise<void> = Promise.resolve();
      let fired = 0;
      const started = Date.now();
      await runConcurrently(client, ops, FAULTS.concurrency, (n) => {
        while (fired < schedule.length && n >= (schedule[fired] as Nemesis).at * ops.length) {
          const nemesis = schedule[fired++] as Nemesis;
          chain = chain.then(async () => {
            const t = Date.now() - started;
            log.push(`${nemesis.name} at op ${n} (+${t} ms): ${await nemesis.run()}`);
          });
        }
      });
      await chain;
      const elapsed = Date.now() - started;
      sandbox.setFault();

      const report = await verifyBank(client, accounts, [...deposits, ...ops]);

      // The gateway's side: each acknowledged deposit charged exactly once; nothing charged that was not credited.
      const stats = sandbox.stats();
      const depositIds = report.acknowledgedDeposits.map((o) => o.outcome?.body.id as string);
      const chargedOtherThanOnce = depositIds.filter((id) => stats.charges[id] !== 1).map((id) => `${id}: charged ${stats.charges[id] ?? 0} times`);
      expect(chargedOtherThanOnce).toEqual([]);
      const credited = new Set(depositIds);
      const orphanCharges = Object.keys(stats.charges).filter((id) => !credited.has(id));
      expect(orphanCharges).toEqual([]);
      expect(stats.unauthorized).toBe(0);
      const chargeRequests = Object.values(stats.chargeRequests).reduce((s, n) => s + n, 0);
      // The faults bit: the gateway saw repeated charge requests, and clients had to retry.
      expect(chargeRequests).toBeGreaterThan(depositIds.length);
      expect(client.stats.retries).toBeGreaterThan(0);
      faults.assertEffective?.();

      report.invariants.push(`each of ${depositIds.length} acknowledged deposits charged exactly once by the gateway (${chargeRequests} charge requests in all) and credited once; no charge without a credited deposit`);
      printReport(`bank workload under faults on ${backend.storage}`, report, client, {
        seed: `${seed} (replay with PROOF_SEED=${seed})`,
        'workload time': `${elapsed} ms`,
        'faults injected': log,
        'gateway 502 answers seen by clients': client.stats.attemptStatuses['502 payment_gateway_error'] ?? 0,
        'storage 503 answers seen by clients': client.stats.attemptStatuses['503 service_unavailable'] ?? 0,
      });
    }, 240_000);
  });
