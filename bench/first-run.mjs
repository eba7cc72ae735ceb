#!/usr/bin/env node
// A newcomer's first run: a fresh clone of this repository (its committed HEAD) in a temp
// directory, `npm ci` (timed on its own, not part of the goal), then `npm start` until
// GET /health answers 200 — first on the fresh clone (every bundle built, a new PGlite
// data directory), then again with nothing changed (bundles reused), then after one
// handler changed. Loopback only; every wait is bounded. Prints a markdown section.
// Usage: node bench/first-run.mjs [unchanged runs (3)]
// FIRST_RUN_INSTALL=link hard-links this checkout's node_modules instead of `npm ci`
// (no registry access; the same files `npm ci` would install from the lockfile).
import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const RUNS = Number(process.argv[2] ?? 3);
const START_TIMEOUT_MS = 180_000;
const repo = resolve(new URL('..', import.meta.url).pathname);
const work = mkdtempSync(join(tmpdir(), 'wallet-first-run-'));
const clone = join(work, 'wallet');

const freePort = () => new Promise((ok, fail) => {
  const srv = createServer();
  srv.once('error', fail);
  srv.listen(0, '127.0.0.1', () => {
    const { port } = srv.address();
    srv.close(() => ok(port));
  });
});
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const load = () => loadavg()[0].toFixed(1);

/** `npm start` in the clone; milliseconds from spawn until GET /health is 200. */
const timeToFirst200 = async (extraEnv = {}) => {
  const [port, lambdaPort] = [await freePort(), await freePort()];
  const started = performance.now();
  const child = spawn('npm', ['start'], {
    cwd: clone,
    detached: true, // its own process group: stopped as a whole below
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...newcomerEnv({ PORT: String(port), LAMBDA_PORT: String(lambdaPort), HOST: '127.0.0.1', LOG_LEVEL: 'ERROR' }), ...extraEnv },
  });
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  let exited = false;
  child.on('exit', () => { exited = true; });
  try {
    while (performance.now() - started < START_TIMEOUT_MS) {
      if (exited) throw new Error(`npm start exited early:\n${output.slice(-2000)}`);
      try {
        const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(30_000) });
        if (res.status === 200) return { ms: performance.now() - started, built: /built (\d+) of (\d+)|(\d+) functions up to date/.exec(output)?.[0] ?? '?' };
      } catch {
        // not listening yet
      }
      await sleep(50);
    }
    throw new Error(`no 200 within ${START_TIMEOUT_MS} ms:\n${output.slice(-2000)}`);
  } finally {
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
    for (let i = 0; i < 100 && !exited; i++) await sleep(50);
    if (!exited) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
};

/** The environment of someone who just cloned: none of this checkout's settings. */
function newcomerEnv(extra) {
  const env = { ...process.env, ...extra };
  for (const k of Object.keys(env)) {
    if (/^(STORAGE|DATA_DIR|WALLET_|BUILD_|AUTH_|APP_SECRET|POSTGRES_|REDIS_|MONGODB_|PAYMENT_)/.test(k)) delete env[k];
  }
  return env;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (x) => (x / 1000).toFixed(1);

try {
  execFileSync('git', ['clone', '--quiet', repo, clone], { stdio: 'ignore' });
  const installStarted = performance.now();
  if (process.env.FIRST_RUN_INSTALL === 'link') {
    execFileSync('cp', ['-al', join(repo, 'node_modules'), join(clone, 'node_modules')]);
    rmSync(join(clone, 'node_modules', '.cache'), { recursive: true, force: true });
  } else {
    execFileSync('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: clone, stdio: 'ignore', timeout: 600_000 });
  }
  const install = performance.now() - installStarted;
  if (existsSync(join(clone, '.build')) || existsSync(join(clone, '.data'))) throw new Error('the clone is not fresh');

  const loadBefore = load();
  const fresh = await timeToFirst200();
  // Interleaved with a reference: the same start on the memory store, i.e. npm and
  // serverless-offline's own start-up, which no bundle reuse can remove.
  const unchanged = [];
  const reference = [];
  for (let i = 0; i < RUNS; i++) {
    unchanged.push(await timeToFirst200());
    reference.push(await timeToFirst200({ STORAGE: 'memory' }));
  }
  appendFileSync(join(clone, 'functions', 'health.ts'), '\n// changed by bench/first-run.mjs\n');
  const oneChanged = await timeToFirst200();

  const rows = [
    ['fresh clone: every bundle built, new PGlite data directory', fresh.ms, fresh.built, '≤ 10 s (idle machine)'],
    [`nothing changed since the last start (median of ${RUNS}; ${ms(Math.min(...unchanged.map((u) => u.ms)))}–${ms(Math.max(...unchanged.map((u) => u.ms)))} s)`, median(unchanged.map((u) => u.ms)), unchanged[0].built, '≤ 3 s'],
    ['one handler changed (functions/health.ts)', oneChanged.ms, oneChanged.built, '—'],
    [`reference: nothing changed, STORAGE=memory (median of ${RUNS}): npm + serverless-offline start-up alone`, median(reference.map((u) => u.ms)), reference[0].built, '—'],
  ];
  console.log([
    '## First run: fresh clone to the first 200',
    '',
    'bench/first-run.mjs: `git clone` of the committed HEAD into a temp directory, '
      + `${process.env.FIRST_RUN_INSTALL === 'link' ? 'node_modules hard-linked from this checkout' : '`npm ci --prefer-offline`'} `
      + `(${ms(install)} s, not counted), then \`npm start\` from spawn until \`GET /health\` answers 200 on loopback. `
      + `Load average (1 min) before the first start: ${loadBefore} on ${'`nproc`'} = ${execFileSync('nproc', { encoding: 'utf8' }).trim()}; after the last: ${load()}.`,
    '',
    '| start | time to first 200 | bundles | goal |',
    '|---|---:|---|---|',
    ...rows.map(([what, t, built, goal]) => `| ${what} | ${ms(t)} s | ${built} | ${goal} |`),
  ].join('\n'));
} finally {
  rmSync(work, { recursive: true, force: true });
}
