#!/usr/bin/env node
// `npm test`: the layer rules (dependency-cruiser, .dependency-cruiser.cjs) and the type
// check (tsc over functions, src, test, bench, scripts), then every
// suite (unit, contract per backend, integration, e2e and proofs over
// serverless-offline), then one plain closing line:
//   tests: N passed, N failed, N skipped
// The fault-injection proofs stop and restart the local PostgreSQL and cut
// connections, so they run last and alone (--runInBand), never beside other suites.
// The PostgreSQL suites (contract, integration, e2e, proofs; the fault proof in the
// faults phase) run a second time through PgBouncer in transaction pooling mode
// (TEST_POSTGRES_PORT=6432, started by `npm run pgbouncer`, as CI does): the
// adapter must work behind a pooler that multiplexes connections, as on AWS.
// Arguments are passed to the first phase (e.g. `npm test -- test/unit`).
import { spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const jest = join(dirname(require.resolve('jest/package.json')), 'bin/jest.js');
const FAULTS = 'test/proof/.*\\.faults\\.test\\.ts$';
// Every suite on the local PostgreSQL server (not PGlite), and its fault proof.
const POSTGRES_SUITES = 'test/(contract|e2e|proof)/postgres\\.[^/]*\\.test\\.ts$|test/integration/postgres-(?!pglite)[^/]*\\.test\\.ts$';
const POSTGRES_FAULTS = 'test/proof/postgres\\.faults\\.test\\.ts$';
const PGBOUNCER_PORT = 6432;
mkdirSync('.build', { recursive: true });

const phase = (name, args, env = {}) => {
  const results = `.build/jest-${name}.json`;
  // --forceExit: a handle left open by a failed suite must not hang the run (and CI).
  const run = spawnSync(process.execPath, [jest, '--json', `--outputFile=${results}`, '--forceExit', ...args], { stdio: 'inherit', env: { ...process.env, ...env } });
  try {
    const r = JSON.parse(readFileSync(results, 'utf8'));
    const skipped = r.testResults.flatMap((f) => f.assertionResults.filter((a) => a.status === 'pending' || a.status === 'todo').map((a) => a.fullName));
    return { skippedNames: skipped, status: run.status ?? 1, passed: r.numPassedTests, failed: r.numFailedTests, skipped: r.numPendingTests + r.numTodoTests, total: r.numTotalTests };
  } catch {
    console.error(`jest wrote no results for ${name}`);
    return { skippedNames: [], status: run.status || 1, passed: 0, failed: 0, skipped: 0, total: 0 };
  }
};

// Layer rules first: a broken boundary fails the run however the suites go.
// (Its package exports no bin path, so the installed file is named directly.)
const depcruise = fileURLToPath(new URL('../node_modules/dependency-cruiser/bin/dependency-cruise.mjs', import.meta.url));
const layers = spawnSync(process.execPath, [depcruise, '--config', '.dependency-cruiser.cjs', 'src', 'functions', 'scripts', 'test'], { stdio: 'inherit' });
// Types too: ts-jest checks only what the suites import; benches and scripts rot unseen otherwise.
const tsc = join(dirname(require.resolve('typescript/package.json')), 'bin/tsc');
const types = spawnSync(process.execPath, [tsc, '--noEmit', '-p', 'tsconfig.json'], { stdio: 'inherit' });
const staticChecksOk = layers.status === 0 && types.status === 0;
if (layers.status !== 0) console.error('dependency-cruiser: layer rules broken (see above)');
if (types.status !== 0) console.error('tsc: type errors (see above)');

const reachable = (port) =>
  new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, timeout: 1000 }, () => (socket.end(), resolve(true)));
    socket.on('error', () => resolve(false));
    socket.on('timeout', () => (socket.destroy(), resolve(false)));
  });

const userArgs = process.argv.slice(2);
const phases = [phase('main', [...userArgs, `--testPathIgnorePatterns=${FAULTS}`])];
if (userArgs.length === 0) {
  // The main phase has built the bundles the e2e and proof servers run.
  const throughPgBouncer = { TEST_POSTGRES_PORT: String(PGBOUNCER_PORT), WALLET_SKIP_BUILD: '1' };
  const pgbouncer = await reachable(PGBOUNCER_PORT);
  if (pgbouncer) {
    console.log(`\nPostgreSQL suites again, through PgBouncer on 127.0.0.1:${PGBOUNCER_PORT} (transaction pooling)`);
    phases.push(phase('pgbouncer', [POSTGRES_SUITES, `--testPathIgnorePatterns=${FAULTS}`], throughPgBouncer));
  } else {
    const why = `PgBouncer phase: nothing listens on 127.0.0.1:${PGBOUNCER_PORT} (start it with \`npm run pgbouncer\`)`;
    // CI starts it (.ci/run sets WALLET_REQUIRE_PGBOUNCER): there, its absence is a failure, not a skip.
    if (process.env.WALLET_REQUIRE_PGBOUNCER === '1') {
      console.error(`FAILED: ${why}`);
      phases.push({ skippedNames: [], status: 1, passed: 0, failed: 1, skipped: 0, total: 1 });
    } else {
      console.log(`\nSKIPPED: ${why}`);
      phases.push({ skippedNames: [why], status: 0, passed: 0, failed: 0, skipped: 1, total: 0 });
    }
  }
  phases.push(phase('faults', ['--runInBand', '--passWithNoTests', FAULTS]));
  if (pgbouncer) phases.push(phase('pgbouncer-faults', ['--runInBand', POSTGRES_FAULTS], throughPgBouncer));
}

const sum = (k) => phases.reduce((n, p) => n + p[k], 0);
// Say loudly what did not run (e.g. the MongoDB suites without MONGODB_URI).
const skippedNames = phases.flatMap((p) => p.skippedNames);
if (skippedNames.length) {
  console.log(`\nSKIPPED (${skippedNames.length}) — these did not run:`);
  for (const name of skippedNames) console.log(`  SKIPPED: ${name}`);
}
console.log(`\ntests: ${sum('passed')} passed, ${sum('failed')} failed, ${sum('skipped')} skipped${staticChecksOk ? '' : ' (and the layer rules or the type check failed)'}`);
if (sum('total') === 0) {
  console.error('No test ran.');
  process.exit(1);
}
process.exit(!staticChecksOk || phases.some((p) => p.status !== 0) ? 1 : 0);
