#!/usr/bin/env node
// `npm run bench`: every performance figure, written to BENCHMARKS.md. Each section
// compares against a baseline measured in the same run (these machines are shared
// and noisy, so absolute numbers vary; ratios are what to compare).
import { execFileSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { writeFileSync } from 'node:fs';

const node = process.execPath;
const run = (args, env = {}) => execFileSync(node, args, { encoding: 'utf8', env: { ...process.env, POWERTOOLS_METRICS_DISABLED: 'true', ...env }, stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024 });
const version = (cmd, args) => {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8' }).trim().split('\n')[0];
  } catch {
    return 'not available';
  }
};

const sections = [];
const step = (title, fn) => {
  process.stderr.write(`bench: ${title}\n`);
  const started = Date.now();
  try {
    // A JSON log line on a bench's stdout is not a figure: it goes to the terminal instead.
    const lines = fn().trim().split('\n');
    const isLog = (line) => line.startsWith('{"level":');
    const logs = lines.filter(isLog);
    if (logs.length > 0) process.stderr.write(`bench: ${title}: log lines kept out of BENCHMARKS.md:\n${logs.join('\n')}\n`);
    sections.push(lines.filter((line) => !isLog(line)).join('\n'));
  } catch (err) {
    // A section that printed its figures and then failed (a budget not met) keeps them.
    const printed = typeof err.stdout === 'string' ? err.stdout.trim() : '';
    const failure = `Failed in this run: ${String(err.message ?? err).split('\n')[0]}`;
    sections.push(printed ? `${printed}\n\n${failure}` : `## ${title}\n\n${failure}`);
  }
  process.stderr.write(`bench: ${title} done in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
};

run(['scripts/build.mjs'], { BUILD_OUTDIR: '.build/test' }); // bench/http-throughput starts serverless-offline the way the tests do
step('Bundle sizes', () => run(['scripts/check-bundles.mjs']));
step('Cold start', () => run(['bench/cold-start.mjs', '15', '--check', '60']));
step('Warm overhead', () => run(['scripts/run-ts.mjs', 'bench/warm-overhead.ts', '3000']));
step('In-process work per write', () => run(['scripts/run-ts.mjs', 'bench/per-write-cpu.ts']));
step('Use case throughput', () => run(['scripts/run-ts.mjs', 'bench/use-case-throughput.ts']));
step('Holds throughput', () => run(['scripts/run-ts.mjs', 'bench/holds-throughput.ts']));
step('Events on vs off', () => run(['scripts/run-ts.mjs', 'bench/events-throughput.ts']));
step('PostgreSQL adapter', () => run(['scripts/run-ts.mjs', 'bench/postgres-bench.ts']));
step('PostgreSQL at Lambda scale (PgBouncer)', () => {
  // Starts PgBouncer on 127.0.0.1:6432 unless it is running; without it the section says so.
  try {
    execFileSync('bash', ['.ci/pgbouncer'], { stdio: ['ignore', 'ignore', 'inherit'] });
  } catch {
    // Reported in the section.
  }
  return run(['scripts/run-ts.mjs', 'bench/pg-scale.ts']);
});
step('Redis adapter', () => run(['scripts/run-ts.mjs', 'bench/redis-bench.ts']));
step('HTTP throughput', () => run(['scripts/run-ts.mjs', 'bench/http-throughput.ts']));
step('Startup', () => run(['scripts/run-ts.mjs', 'bench/startup.ts', '3']));
step('First run', () => run(['bench/first-run.mjs', '3']));
step('Liveness under faults', () => run(['bench/fault-liveness.mjs', '5']));

const machine = [
  `- CPU: ${cpus()[0]?.model ?? 'unknown'} × ${cpus().length}; memory ${(totalmem() / 2 ** 30).toFixed(0)} GiB`,
  `- Node ${process.version}; ${version('psql', ['--version'])}; ${version('redis-server', ['--version'])}`,
  `- Date: ${new Date().toISOString()}`,
];
const doc = [
  '# Benchmarks', '',
  'Produced by `npm run bench` (scripts/bench.mjs); every figure below comes from that one run. Shared, noisy machine: compare the ratios, which are measured against a baseline in the same run, not absolute numbers across runs.', '',
  ...machine, '',
  '## Budgets', '',
  '| budget | goal | where |', '|---|---|---|',
  '| 1. bundle size per function | ≤ 350 KB (PostgreSQL builds), ≤ 375 KB (Redis builds: their Lua travels as text), ≤ 1 MB (MongoDB) | Bundle sizes; checked in CI by `scripts/check-bundles.mjs` |',
  '| 2. cold-start work | ≤ 60 ms over a hello bundle (memory store) | Cold start; checked in CI by `bench/cold-start.mjs --check 60` |',
  '| 3. warm overhead of middy + validation + auth | ≤ 1 ms median | Warm overhead |',
  '| 4. throughput | adapter vs raw statements; use case vs adapter | PostgreSQL, Redis, use case sections |', '',
  ...sections.flatMap((s) => [s, '']),
].join('\n');
writeFileSync('BENCHMARKS.md', doc);
console.log('wrote BENCHMARKS.md');
