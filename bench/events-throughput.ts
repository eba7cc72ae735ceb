// Transfers per second with events on vs off, on PostgreSQL and Redis, in the same run:
// createTransfer with a new Idempotency-Key through the use case, at 8 and 32
// concurrent callers, interleaved. "On" = EVENT_BUS_NAME set: every transfer also
// writes its event into the outbox in its own atomic step; after each run one relay
// publishes what it wrote to a local EventBridge stand-in (the real SDK over HTTP) and
// its rate is reported. Prints a markdown section.
// Usage: node scripts/run-ts.mjs bench/events-throughput.ts
import './quiet-metrics';
import { randomUUID } from 'node:crypto';

import { buildApp, type App } from '../src/composition-root';
import { parseConfig } from '../src/config';
import { eventDetail } from '../src/http/event-detail';
import { startFakeEventBridge } from '../test/support/fake-eventbridge';
import { median, onPostgresAndRedis, range, rateFor } from './throughput';

const CONCURRENCY = [8, 32];
const REPETITIONS = 3;
const RUN_MS = 1_000;
const ACCOUNTS = 100;


const measure = (concurrency: number, op: (i: number) => Promise<unknown>): Promise<number> => rateFor(RUN_MS, concurrency, op);

/** One relay publishing until the outbox is empty; returns how many events it sent. */
const relayUntilEmpty = async (app: App): Promise<number> => {
  let published = 0;
  for (;;) {
    const r = await app.useCases.publishEvents({ batchSize: 100, maxBatches: 100, timeBudgetMs: 60_000, leaseMs: 30_000, toDetail: eventDetail });
    published += r.published;
    if (r.batches === 0) return published;
  }
};

const benchStorage = async (name: string, settings: Record<string, string>, busName: string): Promise<string[]> => {
  const base = { AUTH_JWT_SECRET: 'bench-secret-0123456789', ...settings };
  const off = await buildApp(parseConfig(base));
  const on = await buildApp(parseConfig({ ...base, EVENT_BUS_NAME: busName }));
  const users = Array.from({ length: ACCOUNTS }, () => `bench-${randomUUID()}`);
  for (const id of users) {
    await off.useCases.createUser({ id, isAdmin: false }, { email: `${id}@example.com`, name: 'Bench' });
    await off.useCases.createDeposit({ id, isAdmin: false }, { userId: id, amount: 1_000_000_000, currency: 'USD' });
  }
  const transfer = (app: App) => (i: number) => {
    const from = users[i % ACCOUNTS] as string;
    const to = users[(i + 1 + (i % 7)) % ACCOUNTS] as string;
    return app.useCases.createTransfer({ id: from, isAdmin: false }, { toUserId: to, amount: 1, currency: 'USD', idempotencyKey: randomUUID() });
  };
  const lines: string[] = [];
  const relayRates: number[] = [];
  for (const c of CONCURRENCY) {
    const a: number[] = [];
    const b: number[] = [];
    for (let r = 0; r < REPETITIONS; r++) {
      a.push(await measure(c, transfer(off)));
      b.push(await measure(c, transfer(on)));
      // The relay drains what that run wrote (on AWS it runs in other invocations, not in the writer's process).
      const started = performance.now();
      const published = await relayUntilEmpty(on);
      relayRates.push(published / ((performance.now() - started) / 1000));
    }
    lines.push(`| ${name} | ${c} | ${range(a)} | ${range(b)} | ${(median(b) / median(a)).toFixed(2)} |`);
  }
  const backlog = await on.useCases.eventBacklog();
  lines.push(`| ${name} | one relay, batches of 100 | events published/s: ${range(relayRates)}; ${backlog?.count ?? 0} left | | |`);
  await on.storage.close();
  await off.storage.close();
  return lines;
};

const main = async (): Promise<void> => {
  const bus = await startFakeEventBridge();
  Object.assign(process.env, bus.sdkEnv());
  const rows = await onPostgresAndRedis('wallet_events_bench', (name, settings) => benchStorage(name, settings, 'wallet-bench'));
  await bus.close();
  console.log([
    '## Events on vs off',
    '',
    `createTransfer with a new Idempotency-Key through the use case, ${ACCOUNTS} accounts, ${REPETITIONS} interleaved runs of ${RUN_MS} ms per cell; transfers/s, median (min–max). "Events on": EVENT_BUS_NAME set, so each transfer also writes its event into the outbox in its own transaction or script (the store's share of the cost). After each run one relay publishes what it wrote to a local EventBridge stand-in (the real SDK over HTTP, in this process); its rate is the last row per store. The issue's goal is ≥ 0.8.`,
    '',
    '| storage | concurrent callers | events off tx/s | events on tx/s | on / off |',
    '|---|---:|---:|---:|---:|',
    ...rows,
    '',
    'A deployed handler also publishes what it wrote before answering (a bounded try, EVENTS_INLINE_BUDGET_MS): that adds one PutEvents call to each write request\'s latency, not to the store\'s work; it is not in these figures.',
  ].join('\n'));
  process.exit(0);
};

void main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
