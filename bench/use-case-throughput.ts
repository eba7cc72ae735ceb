// Transfers per second through the createTransfer use case (money validation, a new
// Idempotency-Key claimed inside the transfer, which also checks both profiles) vs
// Ledger.transfer alone, on PostgreSQL and Redis, at 1, 8 and 32 concurrent callers,
// interleaved in the same run; then the hot-account ceiling (one payer, 32 callers).
// Each use-case call carries an Idempotency-Key, as clients should send.
// Usage: node scripts/run-ts.mjs bench/use-case-throughput.ts
import './quiet-metrics';
import { randomUUID } from 'node:crypto';

import { buildApp } from '../src/composition-root';
import { closeRedisClient, createRedisClient, waitUntilReady } from '../src/adapters/redis/redis-client';
import { uuidv7 } from '../src/adapters/system/system-clock';
import { parseConfig, type Config } from '../src/config';
import { claimTimes, fingerprint } from '../src/core/idempotency';
import type { Transaction } from '../src/core/transaction';
import { median, onPostgresAndRedis, range, rateFor } from './throughput';

const CONCURRENCY = [1, 8, 32];
const REPETITIONS = 5;
const RUN_MS = 1500;
const ACCOUNTS = 100;


const measure = (concurrency: number, op: (i: number) => Promise<unknown>): Promise<number> => rateFor(RUN_MS, concurrency, op);

/** What the Redis server has done so far: CPU seconds (INFO cpu) and µs spent per command (INFO commandstats, scripts' own commands included). */
interface ServerSample {
  cpu: number;
  usec: Record<string, number>;
}
/** A sample of the Redis server, or undefined for other stores. */
type ServerCpu = () => Promise<ServerSample | undefined>;

/** The commands that write the key's record on the fast path (with events off, the transfer script runs no other HSET). */
const RECORD_COMMANDS = ['hset', 'pexpireat'];

interface CpuPerCall {
  /** This process, user + system, µs per call. */
  node: number;
  /** The Redis server (INFO cpu), µs per call; undefined for other stores. */
  server?: number;
  /** Time inside the script (EVALSHA), and in its commands that write the key's record, µs per call (INFO commandstats). */
  script?: number;
  record?: number;
}

/**
 * `measure`, also counting the CPU per call while it runs: this process and, on Redis,
 * the server. On a machine where client and server share the cores, throughput follows
 * their sum.
 */
const measureWithCpu = async (concurrency: number, op: (i: number) => Promise<unknown>, serverCpu: ServerCpu): Promise<{ rate: number; cpu: CpuPerCall }> => {
  const server0 = await serverCpu();
  const node0 = process.cpuUsage();
  const rate = await measure(concurrency, op);
  const node = process.cpuUsage(node0);
  const server1 = await serverCpu();
  const calls = rate * (RUN_MS / 1000);
  const spent = (cmds: string[]): number =>
    cmds.reduce((sum, c) => sum + ((server1?.usec[c] ?? 0) - (server0?.usec[c] ?? 0)), 0) / calls;
  return {
    rate,
    cpu: {
      node: (node.user + node.system) / calls,
      ...(server0 !== undefined && server1 !== undefined && {
        server: ((server1.cpu - server0.cpu) * 1e6) / calls,
        script: spent(['evalsha']),
        record: spent(RECORD_COMMANDS),
      }),
    },
  };
};

/** The callers at which CPU per call is reported. */
const CPU_AT = 8;
/** The rows of the CPU table, each store's in turn. */
const cpuRows: string[] = [];

const benchStorage = async (name: string, settings: Record<string, string>): Promise<string[]> => {
  const config = parseConfig({ AUTH_JWT_SECRET: 'bench-secret-0123456789', ...settings });
  const app = await buildApp(config);
  const { useCases, storage } = app;
  const users = Array.from({ length: ACCOUNTS }, () => `bench-${randomUUID()}`);
  for (const id of users) {
    await useCases.createUser({ id, isAdmin: false }, { email: `${id}@example.com`, name: 'Bench' });
    await useCases.createDeposit({ id, isAdmin: false }, { userId: id, amount: 1_000_000_000, currency: 'USD' });
  }
  const pair = (i: number): [string, string] => {
    const from = users[i % ACCOUNTS] as string;
    return [from, users[(i * 7 + 1) % ACCOUNTS === i % ACCOUNTS ? (i + 1) % ACCOUNTS : (i * 7 + 1) % ACCOUNTS] as string];
  };
  const viaUseCase = (i: number) => {
    const [from, to] = pair(i);
    return useCases.createTransfer({ id: from, isAdmin: false }, { toUserId: to, amount: 1, currency: 'USD', idempotencyKey: randomUUID() });
  };
  const movement = (i: number): Transaction => {
    const [from, to] = pair(i);
    const at = new Date().toISOString();
    // The transaction the use case builds (completedMovement), so both store the same JSON.
    return { id: uuidv7(), type: 'transfer', status: 'completed', userId: from, toUserId: to, amount: 1, currency: 'USD', metadata: {}, refundedAmount: 0, createdAt: at, updatedAt: at };
  };
  const viaLedger = (i: number) => storage.ledger.transfer(movement(i));
  // The same ledger call the use case makes: a new key claimed inside the transfer.
  const viaKeyedLedger = (i: number) => {
    const tx = movement(i);
    const now = new Date().toISOString();
    const scope = { callerId: tx.userId, key: randomUUID(), fingerprint: fingerprint('transfer', { i }), token: randomUUID() };
    return storage.ledger.transfer(tx, scope, claimTimes({ ledger: storage.ledger, now, nowMs: Date.now, leaseMs: 20_000, ttlMs: 86_400_000 }));
  };
  const lines: string[] = [];
  const hotLines: string[] = [];
  const serverCpu: ServerCpu & { close?: () => Promise<void> } = name === 'redis' ? await redisServerCpu(config) : async () => undefined;
  const cpu = new Map<(i: number) => Promise<unknown>, CpuPerCall[]>([[viaUseCase, []], [viaLedger, []], [viaKeyedLedger, []]]);
  for (const c of CONCURRENCY) {
    const u: number[] = [];
    const l: number[] = [];
    const k: number[] = [];
    // The order rotates per repetition, so no variant always runs first or last (a
    // checkpoint or autovacuum lands on whichever cell is running).
    const cells: Array<[number[], (i: number) => Promise<unknown>]> = [[u, viaUseCase], [l, viaLedger], [k, viaKeyedLedger]];
    for (let r = 0; r < REPETITIONS; r++) {
      for (let j = 0; j < cells.length; j++) {
        const [into, op] = cells[(r + j) % cells.length] as [number[], (i: number) => Promise<unknown>];
        if (c === CPU_AT) {
          const measured = await measureWithCpu(c, op, serverCpu);
          into.push(measured.rate);
          cpu.get(op)?.push(measured.cpu);
        } else {
          into.push(await measure(c, op));
        }
      }
    }
    lines.push(`| ${name} | ${c} | ${range(u)} | ${range(l)} | ${(median(u) / median(l)).toFixed(2)} | ${range(k)} | ${(median(u) / median(k)).toFixed(2)} |`);
  }
  await serverCpu.close?.();
  // CPU per transfer: the median over the repetitions of each variant.
  const cell = (xs: CpuPerCall[]): { node: number; server?: number; script?: number; record?: number; sum: number } => {
    const of = (k: 'server' | 'script' | 'record'): number | undefined =>
      xs.every((x) => x[k] !== undefined) ? median(xs.map((x) => x[k] as number)) : undefined;
    const node = median(xs.map((x) => x.node));
    const [server, script, record] = [of('server'), of('script'), of('record')];
    return { node, ...(server !== undefined && { server, script, record }), sum: node + (server ?? 0) };
  };
  const [cu, cl, ck] = [viaUseCase, viaLedger, viaKeyedLedger].map((op) => cell(cpu.get(op) ?? [])) as [ReturnType<typeof cell>, ReturnType<typeof cell>, ReturnType<typeof cell>];
  const µs = (x: number | undefined): string => (x === undefined ? '—' : x.toFixed(1));
  for (const [what, c] of [['use case', cu], ['ledger', cl], ['ledger, same new key', ck]] as const) {
    cpuRows.push(`| ${name} | ${what} | ${µs(c.node)} | ${µs(c.server)} | ${c.server === undefined ? '—' : µs(c.sum)} | ${c.server === undefined ? '—' : (cl.sum / c.sum).toFixed(2)} | ${µs(c.script)} | ${µs(c.record)} |`);
  }

  // The hot account: every transfer debits one payer, so each waits for the previous
  // one's row lock (PostgreSQL) or runs after it in Redis's single script thread.
  const hot = `bench-hot-${randomUUID()}`;
  await useCases.createUser({ id: hot, isAdmin: false }, { email: `${hot}@example.com`, name: 'Hot' });
  await useCases.createDeposit({ id: hot, isAdmin: false }, { userId: hot, amount: 100_000_000_000, currency: 'USD' });
  const payee = (i: number) => users[i % ACCOUNTS] as string;
  const hotUseCase: number[] = [];
  const hotLedger: number[] = [];
  const hotUseCaseOp = (i: number) =>
    useCases.createTransfer({ id: hot, isAdmin: false }, { toUserId: payee(i), amount: 1, currency: 'USD', idempotencyKey: randomUUID() });
  const hotLedgerOp = (i: number) => {
    const at = new Date().toISOString();
    return storage.ledger.transfer({ id: uuidv7(), type: 'transfer', status: 'completed', userId: hot, toUserId: payee(i), amount: 1, currency: 'USD', metadata: {}, refundedAmount: 0, createdAt: at, updatedAt: at });
  };
  for (let r = 0; r < REPETITIONS; r++) {
    if (r % 2 === 0) hotUseCase.push(await measure(32, hotUseCaseOp));
    hotLedger.push(await measure(32, hotLedgerOp));
    if (r % 2 === 1) hotUseCase.push(await measure(32, hotUseCaseOp));
  }
  hotLines.push(`| ${name} | 32, one payer | ${range(hotUseCase)} | ${range(hotLedger)} | ${(median(hotUseCase) / median(hotLedger)).toFixed(2)} | — | — |`);
  await storage.close();
  return [...lines, ...hotLines];
};

/** The Redis server's CPU seconds so far (user + system, INFO cpu) and µs per command (INFO commandstats), over a connection of its own. */
const redisServerCpu = async (config: Config): Promise<ServerCpu & { close?: () => Promise<void> }> => {
  const client = createRedisClient(config.redis);
  await waitUntilReady(client, 5_000);
  const read = async (): Promise<ServerSample> => {
    const info = await client.info('cpu');
    const field = (k: string): number => Number(new RegExp(`^${k}:([\\d.]+)`, 'm').exec(info)?.[1] ?? NaN);
    const usec: Record<string, number> = {};
    for (const m of (await client.info('commandstats')).matchAll(/^cmdstat_([\w|]+):calls=\d+,usec=(\d+)/gm)) usec[m[1] as string] = Number(m[2]);
    return { cpu: field('used_cpu_user') + field('used_cpu_sys'), usec };
  };
  return Object.assign(read, { close: () => closeRedisClient(client) });
};

const main = async (): Promise<void> => {
  const rows = await onPostgresAndRedis('wallet_usecase_bench', benchStorage);
  console.log([
    '## Throughput through the use case vs the ledger alone', '',
    `createTransfer with a new Idempotency-Key (one atomic transfer that checks both profiles and creates the key's record) vs Ledger.transfer with the same accounts — without a key ("ledger"), and with the same new-key claim the use case asks for ("ledger, same new key"); ${ACCOUNTS} accounts, ${REPETITIONS} interleaved runs of ${RUN_MS} ms per cell, in an order that rotates per run; transfers/s, median (min–max). The first ratio is the issue's goal (≥ 0.85 at 8 and 32 callers); the second is what the use-case layer itself costs; their quotient is the price of writing the idempotency record. Multiply by the adapter/raw ratio of the sections below for use case vs raw statements.`, '',
    '| storage | concurrent callers | use case tx/s | ledger tx/s | use case / ledger | ledger, same new key tx/s | use case / same-key ledger |', '|---|---:|---:|---:|---:|---:|---:|',
    ...rows,
    '',
    'What the use case adds per transfer: the money and idempotency checks in process, and — for a new Idempotency-Key — claiming the key inside the transfer\'s own transaction or script, which also checks both profiles (the fast path: one commit, no read before it). Refusals (a missing profile, insufficient funds) take the regular path afterwards, so that their outcome is recorded under the key.',
    '',
    'The last row per store is the hot-account ceiling: one payer, 32 callers, every transfer debits the same balance. On PostgreSQL each transfer holds that row\'s lock until it commits, so the ceiling is about one commit round trip per transfer; on Redis every script runs alone on the server\'s one thread, so the ceiling is the script rate of one shard. docs/postgres.md and docs/redis.md say what to do when one account needs more.',
    '',
    `CPU per transfer, measured during the ${CPU_AT}-caller cells above (median of their ${REPETITIONS} runs per variant): this process (user + system) and, on Redis, the server (INFO cpu). The bench's client and Redis share this machine's cores, so there Redis throughput follows their sum; "ledger / this" is the throughput ratio that sum predicts. (PostgreSQL's server CPU is spread over its backends and not measured here; its client figure includes the kernel's share of each socket write to a server on the same machine.) The last two columns are Redis's own clock (INFO commandstats): time inside the transfer script, and the part of it in the two commands that write the key's record (HSET of its fields, PEXPIREAT); the rest of the script's extra time with a key is Lua's own work for those calls and their arguments.`,
    '',
    '| storage | variant | this process µs | server µs | sum µs | ledger / this | in the script µs | in the record\'s HSET + PEXPIREAT µs |', '|---|---|---:|---:|---:|---:|---:|---:|',
    ...cpuRows,
  ].join('\n'));
  process.exit(0);
};

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
