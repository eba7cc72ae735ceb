#!/usr/bin/env node
// `npm test`: the layer rules (dependency-cruiser, .dependency-cruiser.cjs), then every
// suite (unit, contract per backend, integration, e2e and proofs over
// serverless-offline), then one plain closing line:
//   tests: N passed, N failed, N skipped
// The fault-injection proofs stop and restart the local PostgreSQL and cut
// connections, so they run last and alone (--runInBand), never beside other suites.
// Arguments are passed to the first phase (e.g. `npm test -- test/unit`).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const jest = join(dirname(require.resolve('jest/package.json')), 'bin/jest.js');
const FAULTS = 'test/proof/.*\\.faults\\.test\\.ts$';
mkdirSync('.build', { recursive: true });

const phase = (name, args) => {
  const results = `.build/jest-${name}.json`;
  // --forceExit: a handle left open by a failed suite must not hang the run (and CI).
  const run = spawnSync(process.execPath, [jest, '--json', `--outputFile=${results}`, '--forceExit', ...args], { stdio: 'inherit' });
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
const layersOk = layers.status === 0;
if (!layersOk) console.error('dependency-cruiser: layer rules broken (see above)');

const userArgs = process.argv.slice(2);
const phases = [phase('main', [...userArgs, `--testPathIgnorePatterns=${FAULTS}`])];
if (userArgs.length === 0) phases.push(phase('faults', ['--runInBand', '--passWithNoTests', FAULTS]));

const sum = (k) => phases.reduce((n, p) => n + p[k], 0);
// Say loudly what did not run (e.g. the MongoDB suites without MONGODB_URI).
const skippedNames = phases.flatMap((p) => p.skippedNames);
if (skippedNames.length) {
  console.log(`\nSKIPPED (${skippedNames.length}) — these did not run:`);
  for (const name of skippedNames) console.log(`  SKIPPED: ${name}`);
}
console.log(`\ntests: ${sum('passed')} passed, ${sum('failed')} failed, ${sum('skipped')} skipped${layersOk ? '' : ' (and the layer rules failed)'}`);
if (sum('total') === 0) {
  console.error('No test ran.');
  process.exit(1);
}
process.exit(!layersOk || phases.some((p) => p.status !== 0) ? 1 : 0);
