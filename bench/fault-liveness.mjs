#!/usr/bin/env node
// Liveness under faults, for BENCHMARKS.md: runs each store's fault proof
// (test/proof/<store>.faults.test.ts) N times and tabulates the summaries it writes to
// .build/liveness-<store>.json. Usage: node bench/fault-liveness.mjs [runs=5]
// Needs the test bundles in .build/test (scripts/bench.mjs builds them first). The
// PostgreSQL proof stops and restarts the local server; the Redis one only touches
// the API's own connections (through a proxy).
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const jest = join(dirname(require.resolve('jest/package.json')), 'bin/jest.js');
const runs = Number(process.argv[2] ?? 5);
const stores = ['memory', 'pglite', 'postgres', 'redis', ...(process.env.MONGODB_URI ? ['mongodb'] : [])];
mkdirSync('.build', { recursive: true });

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor((s.length - 1) / 2)];
};
const max = (xs) => xs.reduce((m, x) => Math.max(m, x), 0);
const sum = (xs) => xs.reduce((m, x) => m + x, 0);
const sec = (ms) => `${(ms / 1000).toFixed(1)} s`;

const rows = [];
for (const store of stores) {
  const summaries = [];
  let passed = 0;
  for (let i = 0; i < runs; i++) {
    const summary = `.build/liveness-${store}.json`;
    rmSync(summary, { force: true });
    const log = openSync(`.build/liveness-${store}-${i + 1}.log`, 'w');
    const r = spawnSync(process.execPath, [jest, '--runInBand', '--forceExit', `test/proof/${store}.faults.test.ts`], {
      stdio: ['ignore', log, log],
      env: { ...process.env, WALLET_SKIP_BUILD: '1' },
    });
    closeSync(log);
    if (r.status === 0) passed++;
    if (existsSync(summary)) summaries.push(JSON.parse(readFileSync(summary, 'utf8')));
    process.stderr.write(`liveness: ${store} run ${i + 1}/${runs}: ${r.status === 0 ? 'passed' : 'FAILED'}\n`);
  }
  const f = (k) => summaries.map((s) => s[k]);
  rows.push(
    `| ${store} | ${passed}/${runs} | ${sec(max(f('lastOutcomeAfterFaultsMs')))} (median ${sec(median(f('lastOutcomeAfterFaultsMs')))}) | ${sec(max(f('worstOutcomeAfterFaultsMs')))} | ${sec(max(f('slowestTimeToOutcomeMs')))} | ${median(f('retries'))} | ${max(f('maxAttemptsOfOneOp'))} | ${sum(f('inUseAnswers'))} | ${sum(f('staleInUseAnswers'))} + ${sum(f('lateInUseAnswers'))} | ${sum(f('late503'))} |`,
  );
}

console.log([
  '## Liveness under faults (fault proofs)', '',
  `\`bench/fault-liveness.mjs\`: each store's fault proof run ${runs} times (test/proof/*.faults.test.ts: 800 ops at concurrency 24, clients retrying every op with its own Idempotency-Key; the payment gateway charges then times out; PostgreSQL: pg_terminate_backend rounds and one stop/start; Redis: CLIENT KILL every ~1.5 s with a 3 s pause, a 2 s outage, one more CLIENT KILL; memory and PGlite: gateway faults only). Function timeout 15 s, lease 20 s. The proofs assert every op's final outcome (201 or 4xx) within 15 s after the faults stop, and no stale 409.`, '',
  '| store | runs passed | faults end → last outcome (max over runs) | worst op, after the faults (max) | slowest op, first attempt → outcome (max) | retries per run (median) | most attempts for one op | 409 in use (all runs) | stale + late 409 | 503 > 5 s after the faults |',
  '|---|---|---|---|---|---|---|---|---|---|',
  ...rows,
].join('\n'));
