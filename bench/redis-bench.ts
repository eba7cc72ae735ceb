// Transfers per second through the Redis Ledger adapter vs raw EVALSHA of the same
// script, at 1, 8 and 32 concurrent callers; then one hot account debited by 32
// callers. Prints a markdown section. Run: node scripts/run-ts.mjs bench/redis-bench.ts
import { randomUUID } from 'node:crypto';
import { parseConfig } from '../src/config';
import { makeRedisStorage } from '../src/adapters/redis';
import { closeRedisClient, createRedisClient, waitUntilReady } from '../src/adapters/redis/redis-client';
import { redisKeys } from '../src/adapters/redis/redis-keys';
import { transferCall } from '../src/adapters/redis/redis-ledger';
import { scriptSha, scriptSource } from '../src/adapters/redis/redis-scripts';
import { uuidv7 } from '../src/adapters/system/system-clock';
import { InsufficientFunds } from '../src/core/errors';
import type { Ledger } from '../src/core/ports';
import type { Transaction } from '../src/core/transaction';

const REPS = 5;
const RUN_MS = 1000;
const CONCURRENCY = [1, 8, 32];
const ACCOUNTS = 100;

const config = parseConfig({ AUTH_JWT_SECRET: 'bench-secret-0123456789', ...process.env, STORAGE: 'redis' });
const prefix = `${config.redis.keyPrefix}bench-${randomUUID()}:`;
const keys = redisKeys(prefix);

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const spread = (xs: number[]): string => `${Math.round(Math.min(...xs))}–${Math.round(Math.max(...xs))}`;

const transferTx = (from: string, to: string, amount: number): Transaction => {
  const now = new Date().toISOString();
  return { id: uuidv7(), type: 'transfer', status: 'completed', userId: from, toUserId: to, amount, currency: 'USD', metadata: {}, createdAt: now, updatedAt: now };
};

const fund = async (ledger: Ledger, userId: string, amount: number): Promise<void> => {
  const now = new Date().toISOString();
  const d = await ledger.createDeposit({ id: uuidv7(), type: 'deposit', status: 'pending', userId, amount, currency: 'USD', metadata: {}, createdAt: now, updatedAt: now });
  await ledger.settle({ id: d.id, status: 'completed', now: new Date().toISOString() });
};

/** Runs `concurrency` callers of `op` for RUN_MS; returns completed operations per second. */
const measure = async (concurrency: number, op: (worker: number, i: number) => Promise<void>): Promise<number> => {
  const deadline = Date.now() + RUN_MS;
  let done = 0;
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: concurrency }, async (_, w) => {
    for (let i = 0; Date.now() < deadline; i++) {
      await op(w, i);
      done++;
    }
  }));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return done / seconds;
};

const main = async (): Promise<void> => {
  const client = createRedisClient(config.redis);
  const raw = createRedisClient(config.redis);
  const storage = makeRedisStorage(client, prefix, () => closeRedisClient(client));
  const { ledger, users } = storage;
  try {
    const ready = await Promise.all([waitUntilReady(client, 5000), waitUntilReady(raw, 5000)]);
    if (!ready.every(Boolean)) throw new Error(`Redis at ${config.redis.host}:${config.redis.port} is not reachable`);
    await raw.script('LOAD', scriptSource('transfer'));
    const sha = scriptSha('transfer');

    const accounts: string[] = [];
    for (let i = 0; i < ACCOUNTS; i++) {
      const id = `bench-${i}`;
      await users.create({ id, email: `${id}@example.com`, name: 'B', createdAt: new Date().toISOString() });
      await fund(ledger, id, 100_000_000_000);
      accounts.push(id);
    }
    const pair = (w: number, i: number): [string, string] => {
      const from = (w * 7919 + i * 31) % ACCOUNTS;
      return [accounts[from] as string, accounts[(from + 1 + (i % (ACCOUNTS - 1))) % ACCOUNTS] as string];
    };

    // Warm-up (JIT, connection buffers) so the first measured cell is not penalised.
    await measure(8, async (w, i) => { const [f, t] = pair(w, i); await ledger.transfer(transferTx(f, t, 1)); });
    await measure(8, async (w, i) => {
      const [f, t] = pair(w, i);
      const call = transferCall(keys, transferTx(f, t, 1));
      await raw.evalsha(sha, call.keys.length, ...call.keys, ...call.args);
    });

    const rows: string[] = [];
    for (const c of CONCURRENCY) {
      const adapter: number[] = [];
      const direct: number[] = [];
      for (let r = 0; r < REPS; r++) {
        // Alternate the order so drift in the machine's load hits both sides alike.
        const runAdapter = () => measure(c, async (w, i) => { const [f, t] = pair(w, i); await ledger.transfer(transferTx(f, t, 1)); });
        const runRaw = () => measure(c, async (w, i) => {
          const [f, t] = pair(w, i);
          const call = transferCall(keys, transferTx(f, t, 1));
          const reply = await raw.evalsha(sha, call.keys.length, ...call.keys, ...call.args);
          if (reply !== 'ok') throw new Error(`raw transfer answered ${String(reply)}`);
        });
        if (r % 2 === 0) { adapter.push(await runAdapter()); direct.push(await runRaw()); }
        else { direct.push(await runRaw()); adapter.push(await runAdapter()); }
      }
      const ratio = median(adapter) / median(direct);
      rows.push(`| ${c} | ${Math.round(median(adapter))} (${spread(adapter)}) | ${Math.round(median(direct))} (${spread(direct)}) | ${(ratio * 100).toFixed(0)} % |`);
    }

    // Hot account: 32 callers drain one account; the refusals must stop exactly at zero.
    const hotRows: string[] = [];
    for (let r = 0; r < REPS; r++) {
      const hot = `hot-${r}`;
      await users.create({ id: hot, email: `${hot}@example.com`, name: 'H', createdAt: new Date().toISOString() });
      const start = 100_000;
      await fund(ledger, hot, start);
      let moved = 0;
      let ok = 0;
      let refused = 0;
      const rate = await measure(32, async (w, i) => {
        const amount = 1 + ((w + i) % 10);
        try {
          await ledger.transfer(transferTx(hot, accounts[(w + i) % ACCOUNTS] as string, amount));
          moved += amount;
          ok++;
        } catch (err) {
          if (!(err instanceof InsufficientFunds)) throw err;
          refused++;
        }
      });
      const balance = (await ledger.getBalances(hot)).find((b) => b.currency === 'USD')?.available ?? 0;
      const exact = balance === start - moved && balance >= 0;
      hotRows.push(`| ${r + 1} | ${Math.round(rate)} | ${ok} | ${refused} | ${balance} | ${exact ? 'yes' : '**NO**'} |`);
      if (!exact) process.exitCode = 1;
    }

    const out = [
      '## Redis adapter (STORAGE=redis)',
      '',
      `Redis ${(await raw.info('server')).match(/redis_version:(\S+)/)?.[1] ?? '?'} at ${config.redis.host}:${config.redis.port}, Node ${process.version}; ` +
        `${REPS} repetitions of ${RUN_MS} ms per cell; median (min–max) transfers/second. Each transfer is one Lua script ` +
        '(check, debit, credit, transaction JSON, both histories); no idempotency key. "Raw" is EVALSHA of the same script with the same keys and arguments, ' +
        'on a second connection, without the adapter (no error mapping, no result parsing).',
      '',
      '| concurrent callers | adapter tx/s | raw EVALSHA tx/s | adapter / raw |',
      '|---:|---:|---:|---:|',
      ...rows,
      '',
      `Hot account: 32 concurrent callers transferring 1–10 units out of one account funded with 100000 for ${RUN_MS} ms, until it runs dry.`,
      '',
      '| run | attempts/s | accepted | refused (insufficient) | final balance | balance = start − accepted, ≥ 0 |',
      '|---:|---:|---:|---:|---:|---|',
      ...hotRows,
      '',
    ];
    console.log(out.join('\n'));
  } finally {
    // Delete only this run's keys.
    await waitUntilReady(raw, 5000);
    let cursor = '0';
    do {
      const [next, found] = await raw.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (found.length > 0) await raw.unlink(...found);
    } while (cursor !== '0');
    await storage.close();
    await closeRedisClient(raw);
  }
};

void main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
