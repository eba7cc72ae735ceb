// Proof 2 — the bank workload while things break: the payment gateway charges and
// then times out (the API's call gives up after charging), and per storage the
// connections are killed or the server goes away for a moment. Clients retry every
// logical op with the same Idempotency-Key until its outcome is final; afterwards
// every invariant of proof 1 holds, each op applied exactly once, and each deposit
// was charged by the gateway exactly once and credited exactly once. Liveness too:
// every op reaches its final outcome within LIVENESS_BOUND_MS after the faults stop
// (or after it started, if later), and no retry meets a stale 409
// idempotency_key_in_use: one that arrives more than the function timeout after the
// op's last attempt that could have been processing the key was sent (409 answers
// process nothing) — by then no invocation can still be running for it. A summary
// goes to .build/liveness-<store>.json.
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { BankClient, type Attempt } from '../support/bank-client';
import type { OfflineServer } from '../support/offline';
import { startSandboxGateway, type SandboxGateway } from '../support/sandbox-gateway';
import { describeOn, prng, seedFromEnv, startProofServer, type Backend } from './backends';
import { openBank, printReport, randomOps, runConcurrently, verifyBank, type Op } from './bank-model';
import { startFakeEventBridge, type FakeEventBridge } from '../support/fake-eventbridge';
import { drainOutbox, verifyEvents } from './events-check';
import { runHoldsWorkload, type HoldsReport } from './holds-workload';

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

export const FAULTS = { accounts: 12, initial: 5_000, ops: 800, concurrency: 24 };
/** New ops per second while a fault is under way (see the pacing in the test). */
const FAULT_RATE = 25;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const SANDBOX_KEY = 'sk_test_proof_faults';
/** Each gateway fault: the next 6 gateway requests charge, then answer only after the API's 300 ms timeout. */
const GATEWAY_FAULT = { kind: 'timeout-after-processing', ms: 1_000, times: 6 } as const;
/** The API's function timeout for money routes, and the idempotency lease the proofs run with (set explicitly). */
export const FUNCTION_TIMEOUT_MS = 15_000;
const LEASE_MS = 20_000;
/** The fake EventBridge refuses this share of entries during the workload; claims of unpublished events last this long. */
const EVENTS_REFUSED_SHARE = 0.2;
const EVENTS_LEASE_MS = 1_000;
/** Every op's outcome arrives within this after the faults stop (or after the op started, when later). */
export const LIVENESS_BOUND_MS = FUNCTION_TIMEOUT_MS;

export interface Liveness {
  store: string;
  ops: number;
  /** From the end of the last fault to the last outcome of an op that was under way by then. */
  lastOutcomeAfterFaultsMs: number;
  /** max over ops of: outcome time − max(op start, end of faults). */
  worstOutcomeAfterFaultsMs: number;
  slowestTimeToOutcomeMs: number;
  retries: number;
  retriedOps: number;
  maxAttemptsOfOneOp: number;
  /** 409 idempotency_key_in_use answers; those later than the function timeout after the faults; stale ones (see above). */
  inUseAnswers: number;
  lateInUseAnswers: number;
  staleInUseAnswers: number;
  /** 503 / network answers that arrived more than 5 s after the faults stopped, and the last one's time after them. */
  late503: number;
  last503AfterFaultsMs: number;
  faultWindowMs: number;
}

/** 409 answers that came more than the function timeout after the op's last attempt that could hold its key was sent. */
const staleInUse = (attempts: Attempt[]): Attempt[] => {
  let lastProcessing = -Infinity;
  const stale: Attempt[] = [];
  for (const a of attempts) {
    if (a.code !== 'idempotency_key_in_use') lastProcessing = a.sentAt;
    else if (a.at > lastProcessing + FUNCTION_TIMEOUT_MS) stale.push(a);
  }
  return stale;
};

const liveness = (store: string, ops: Op[], faultsStart: number, faultsEnd: number): Liveness => {
  const done = ops.filter((o) => o.outcome !== undefined).map((o) => ({ op: o, out: o.outcome as NonNullable<Op['outcome']> }));
  const attempts = done.flatMap(({ out }) => out.attempts);
  const inFlightAtEnd = done.filter(({ out }) => out.startedAt <= faultsEnd);
  const max = (xs: number[]): number => xs.reduce((m, x) => Math.max(m, x), 0);
  return {
    store,
    ops: ops.length,
    lastOutcomeAfterFaultsMs: max(inFlightAtEnd.map(({ out }) => out.finishedAt - faultsEnd)),
    worstOutcomeAfterFaultsMs: max(done.map(({ out }) => out.finishedAt - Math.max(out.startedAt, faultsEnd))),
    slowestTimeToOutcomeMs: max(done.map(({ out }) => out.finishedAt - out.startedAt)),
    retries: attempts.length - done.length,
    retriedOps: done.filter(({ out }) => out.attempts.length > 1).length,
    maxAttemptsOfOneOp: max(done.map(({ out }) => out.attempts.length)),
    inUseAnswers: attempts.filter((a) => a.code === 'idempotency_key_in_use').length,
    lateInUseAnswers: attempts.filter((a) => a.code === 'idempotency_key_in_use' && a.at > faultsEnd + FUNCTION_TIMEOUT_MS).length,
    staleInUseAnswers: done.reduce((n, { out }) => n + staleInUse(out.attempts).length, 0),
    late503: attempts.filter((a) => (a.status === 0 || a.status === 503) && a.at > faultsEnd + 5_000).length,
    last503AfterFaultsMs: max(attempts.filter((a) => a.status === 0 || a.status === 503).map((a) => a.at - faultsEnd)),
    faultWindowMs: faultsEnd - faultsStart,
  };
};

export const describeBankUnderFaults = (backend: Backend, storageFaults?: () => Promise<StorageFaults>): void =>
  describeOn('bank workload under faults', backend, () => {
    let server: OfflineServer | undefined;
    let sandbox: SandboxGateway;
    let bus: FakeEventBridge;
    let faults: StorageFaults = { nemeses: [] };

    beforeAll(async () => {
      sandbox = await startSandboxGateway({ apiKey: SANDBOX_KEY });
      // Events on, to a bus that refuses a share of the entries throughout the workload.
      bus = await startFakeEventBridge();
      bus.failShare(EVENTS_REFUSED_SHARE);
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
        FUNCTION_TIMEOUT_SECONDS: String(FUNCTION_TIMEOUT_MS / 1000),
        IDEMPOTENCY_LEASE_SECONDS: String(LEASE_MS / 1000),
        ...bus.sdkEnv(),
        EVENT_BUS_NAME: 'wallet-proof',
        EVENTS_CLAIM_LEASE_SECONDS: String(EVENTS_LEASE_MS / 1000),
        ...faults.env,
      });
    }, 120_000);
    afterAll(async () => {
      await server?.stop();
      await faults.close?.();
      await sandbox?.close();
      await bus?.close();
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
      // While one runs, ops start at most FAULT_RATE per second, so each fault meets a
      // steady stream of new ops however fast the machine; the last tenth of the ops
      // waits until every fault is over, so the stream always outlasts the faults.
      let chain: Promise<void> = Promise.resolve();
      let fired = 0;
      let faulting = false;
      let nextSlot = 0;
      let faultsStart = 0;
      let faultsEnd = 0;
      const started = Date.now();
      const workload = runConcurrently(client, ops, FAULTS.concurrency, async (n) => {
        while (fired < schedule.length && n >= (schedule[fired] as Nemesis).at * ops.length) {
          const nemesis = schedule[fired++] as Nemesis;
          chain = chain.then(async () => {
            faulting = true;
            const t = Date.now() - started;
            faultsStart ||= Date.now();
            log.push(`${nemesis.name} at op ${n} (+${t} ms): ${await nemesis.run()}`);
            faultsEnd = Date.now();
            faulting = false;
          });
        }
        if (n >= 0.9 * ops.length) await chain;
        if (faulting) {
          const slot = Math.max(Date.now(), nextSlot);
          nextSlot = slot + 1000 / FAULT_RATE;
          await sleep(slot - Date.now());
        }
      });
      // Holds and refunds race on accounts of their own while the faults hit (clients retry with the same keys).
      const holdsClient = new BankClient(server?.url ?? '');
      const holds: Promise<HoldsReport> = runHoldsWorkload(holdsClient, prng(seed + 1));
      await workload;
      await chain;
      const holdsReport = await holds;
      const elapsed = Date.now() - started;
      sandbox.setFault();

      // Liveness first (printed and written even when it fails), then safety.
      const live = liveness(backend.storage, ops, faultsStart, faultsEnd);
      mkdirSync('.build', { recursive: true });
      writeFileSync(`.build/liveness-${backend.storage}.json`, `${JSON.stringify(live, null, 2)}\n`);
      console.log(`LIVENESS on ${backend.storage} (bound ${LIVENESS_BOUND_MS} ms after the faults; lease ${LEASE_MS} ms): ${JSON.stringify(live)}`);
      const slow = ops.filter((o) => o.outcome && o.outcome.finishedAt - Math.max(o.outcome.startedAt, faultsEnd) > LIVENESS_BOUND_MS);
      const lateInUse = ops.filter((o) => o.outcome && (staleInUse(o.outcome.attempts).length > 0
        || o.outcome.attempts.some((a) => a.code === 'idempotency_key_in_use' && a.at > faultsEnd + FUNCTION_TIMEOUT_MS)));
      const show = (o: Op): string => `#${o.n} ${o.kind} key=${o.key}: ${o.outcome?.status} after ${o.outcome?.attempts.map((a) => `${a.status}${a.code ? ` ${a.code}` : ''} @+${a.at - faultsEnd}ms`).join(', ')}`;
      expect({ slow: slow.map(show), lateInUse: lateInUse.map(show) }).toEqual({ slow: [], lateInUse: [] });

      const report = await verifyBank(client, accounts, [...deposits, ...ops]);

      // The gateway's side: each acknowledged deposit charged exactly once; nothing charged that was not credited.
      const stats = sandbox.stats();
      const depositIds = report.acknowledgedDeposits.map((o) => o.outcome?.body.id as string);
      const chargedOtherThanOnce = depositIds.filter((id) => stats.charges[id] !== 1).map((id) => `${id}: charged ${stats.charges[id] ?? 0} times`);
      expect(chargedOtherThanOnce).toEqual([]);
      const credited = new Set([...depositIds, ...holdsReport.deposits]);
      const orphanCharges = Object.keys(stats.charges).filter((id) => !credited.has(id));
      expect(orphanCharges).toEqual([]);
      expect(stats.unauthorized).toBe(0);
      const chargeRequests = Object.values(stats.chargeRequests).reduce((s, n) => s + n, 0);
      // The faults bit: the gateway saw repeated charge requests (its timeouts made the
      // adapter or the client ask again) and, where the store itself is hit, clients had
      // to retry. With gateway faults alone a client retry is not certain: when several
      // deposits each take one timed-out request, the adapter's own retry can absorb them all.
      expect(chargeRequests).toBeGreaterThan(depositIds.length);
      if (faults.nemeses.length > 0) expect(client.stats.retries).toBeGreaterThan(0);
      faults.assertEffective?.();

      // Events: the bus heals, the scheduled relay drains what the requests' own tries left.
      bus.failShare(0);
      const relayRuns = await drainOutbox(server as OfflineServer, bus, EVENTS_LEASE_MS);
      report.invariants.push(...holdsReport.invariants.map((i) => `holds and refunds (retried ${holdsClient.stats.retries} times): ${i}`));
      report.invariants.push(...await verifyEvents(client, bus, [...accounts, ...holdsReport.accounts]));
      expect(bus.stats().entriesFailed).toBeGreaterThan(0);

      report.invariants.push(`each of ${depositIds.length} acknowledged deposits charged exactly once by the gateway (${chargeRequests} charge requests in all) and credited once; no charge without a credited deposit`);
      printReport(`bank workload under faults on ${backend.storage}`, report, client, {
        seed: `${seed} (replay with PROOF_SEED=${seed})`,
        'workload time': `${elapsed} ms`,
        liveness: `last outcome ${live.lastOutcomeAfterFaultsMs} ms after the faults stopped (bound ${LIVENESS_BOUND_MS} ms); slowest time-to-outcome ${live.slowestTimeToOutcomeMs} ms; ${live.retries} retries over ${live.retriedOps} ops (at most ${live.maxAttemptsOfOneOp} attempts for one op); ${live.inUseAnswers} × 409 in use, ${live.lateInUseAnswers} later than the function timeout after the faults, ${live.staleInUseAnswers} stale`,
        'faults injected': [...log, `event bus: refused ${EVENTS_REFUSED_SHARE * 100}% of entries throughout; ${relayRuns} relay runs afterwards`],
        'gateway 502 answers seen by clients': client.stats.attemptStatuses['502 payment_gateway_error'] ?? 0,
        'storage 503 answers seen by clients': client.stats.attemptStatuses['503 service_unavailable'] ?? 0,
      });
    }, 240_000);
  });
