// Holds vs a plain transfer, through the use cases (each call with a new
// Idempotency-Key, as clients should send), on PostgreSQL and Redis, at 8 and 32
// concurrent callers: createHold (one atomic step that checks both profiles and the
// balance and moves the money to `held`) and captureHold (reads the hold for who may
// capture it, then one atomic step that moves the money and records the key) against
// createTransfer. Each cell runs a fixed number of operations; the holds a capture
// cell needs are placed before its clock starts. Prints a markdown section.
// Usage: node scripts/run-ts.mjs bench/holds-throughput.ts
import './quiet-metrics';
import { randomUUID } from 'node:crypto';

import { buildApp } from '../src/composition-root';
import { parseConfig } from '../src/config';
import { median, onPostgresAndRedis, range, rateOf } from './throughput';

const CONCURRENCY = [8, 32];
const REPETITIONS = 3;
const OPS = 1_500;
const ACCOUNTS = 100;


const measure = (concurrency: number, op: (i: number) => Promise<unknown>): Promise<number> => rateOf(OPS, concurrency, op);

const benchStorage = async (name: string, settings: Record<string, string>): Promise<string[]> => {
  const app = await buildApp(parseConfig({ AUTH_JWT_SECRET: 'bench-secret-0123456789', ...settings }));
  const { useCases, storage } = app;
  const users = Array.from({ length: ACCOUNTS }, () => `bench-${randomUUID()}`);
  const as = (id: string) => ({ id, isAdmin: false });
  for (const id of users) {
    await useCases.createUser(as(id), { email: `${id}@example.com`, name: 'Bench' });
    await useCases.createDeposit(as(id), { userId: id, amount: 1_000_000_000, currency: 'USD' });
  }
  const payer = (i: number) => users[i % ACCOUNTS] as string;
  const payee = (i: number) => users[(i + 1 + (i % 7)) % ACCOUNTS] as string;
  const transfer = (i: number) =>
    useCases.createTransfer(as(payer(i)), { toUserId: payee(i), amount: 1, currency: 'USD', idempotencyKey: randomUUID() });
  const hold = (i: number) =>
    useCases.createHold(as(payer(i)), { userId: payer(i), toUserId: payee(i), amount: 2, currency: 'USD', idempotencyKey: randomUUID() });
  const lines: string[] = [];
  for (const c of CONCURRENCY) {
    const t: number[] = [];
    const h: number[] = [];
    const k: number[] = [];
    for (let r = 0; r < REPETITIONS; r++) {
      t.push(await measure(c, transfer));
      h.push(await measure(c, hold));
      // The holds to capture are placed first (untimed); each capture takes half and returns the rest.
      const placed: Array<{ id: string; payee: string }> = [];
      for (let i = 0; i < OPS; i += 50) {
        placed.push(...(await Promise.all(Array.from({ length: Math.min(50, OPS - i) }, async (_, j) => ({ id: (await hold(i + j)).hold.id, payee: payee(i + j) })))));
      }
      k.push(await measure(c, (i) => {
        const p = placed[i] as { id: string; payee: string };
        return useCases.captureHold(as(p.payee), { holdId: p.id, amount: 1, idempotencyKey: randomUUID() });
      }));
    }
    lines.push(`| ${name} | ${c} | ${range(t)} | ${range(h)} | ${(median(h) / median(t)).toFixed(2)} | ${range(k)} | ${(median(k) / median(t)).toFixed(2)} |`);
  }
  await storage.close();
  return lines;
};

const main = async (): Promise<void> => {
  const rows = await onPostgresAndRedis('wallet_holds_bench', benchStorage);
  console.log([
    '## Holds: create and capture vs a plain transfer',
    '',
    `Through the use cases, each call with a new Idempotency-Key; ${ACCOUNTS} accounts, ${OPS} operations per cell, ${REPETITIONS} interleaved runs; operations/s, median (min–max). A hold is placed with a payee; a capture takes part of it (the payee is credited, the rest returns to the payer).`,
    '',
    '| storage | concurrent callers | transfer /s | hold create /s | create / transfer | capture /s | capture / transfer |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...rows,
    '',
    'A hold create is one atomic step like a transfer (profiles, balance, the key\'s record); on Redis it claims a new key inside that step (the transfer\'s fast path: one round trip), on PostgreSQL in a separate step first. A capture first reads the hold (who may capture it, its state and amount) and then runs one atomic step over the hold and both balances, which on Redis also claims the new key (two round trips; on PostgreSQL the key is claimed in a separate step first, three).',
  ].join('\n'));
  process.exit(0);
};

void main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
