// What every write computes in process before it reaches storage, per call: a new id
// (uuidv7) and, with an Idempotency-Key, the request's fingerprint; each against the
// way it was first written (one randomBytes call per id; entries/filter/sort/map and a
// Hash object per fingerprint), measured interleaved in the same run.
// Usage: node scripts/run-ts.mjs bench/per-write-cpu.ts
import { uuidv7 } from '../src/adapters/system/system-clock';
import { fingerprint } from '../src/core/idempotency';
import { fingerprintFirst, uuidv7First } from '../test/support/first-definitions';
import { median } from './throughput';

const CALLS = 50_000;
const ROUNDS = 7;

/** µs per call, median of interleaved rounds. */
const pair = (current: () => unknown, first: () => unknown): [number, number] => {
  const time = (fn: () => unknown): number => {
    const started = performance.now();
    for (let i = 0; i < CALLS; i++) fn();
    return ((performance.now() - started) * 1000) / CALLS;
  };
  time(current);
  time(first);
  const [a, b]: [number[], number[]] = [[], []];
  for (let r = 0; r < ROUNDS; r++) {
    a.push(time(current));
    b.push(time(first));
  }
  return [median(a), median(b)];
};

const transfer = { toUserId: 'user-2f1c9a', amount: 1250, currency: 'USD', metadata: { invoice: 'INV-2026-0042' } };
const rows = ([
  ['new id (uuidv7)', pair(() => uuidv7(), () => uuidv7First())],
  ['fingerprint of a transfer request', pair(() => fingerprint('transfer', transfer), () => fingerprintFirst('transfer', transfer))],
] as const).map(([what, [now, first]]) => `| ${what} | ${now.toFixed(2)} | ${first.toFixed(2)} | ${(now / first).toFixed(2)} |`);

console.log([
  '## In-process work per write', '',
  `What a write computes before it reaches storage: a new id for every write, a fingerprint for every request with an Idempotency-Key. Each against its first definition (one randomBytes call per id; a fingerprint built from entries/filter/sort/map arrays and a Hash object), same output; ${CALLS} calls per round, ${ROUNDS} interleaved rounds, µs per call, median.`, '',
  '| what | now µs | first definition µs | now / first |', '|---|---:|---:|---:|',
  ...rows,
].join('\n'));
