#!/usr/bin/env node
// `npm test`: every suite (unit, contract per backend, integration, e2e over
// serverless-offline), then one plain closing line: "tests: N passed, N failed, N skipped".
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
mkdirSync('.build', { recursive: true });
const results = '.build/jest-results.json';
const run = spawnSync(process.execPath, [require.resolve('jest/bin/jest.js'), '--json', `--outputFile=${results}`, ...process.argv.slice(2)], { stdio: 'inherit' });
try {
  const r = JSON.parse(readFileSync(results, 'utf8'));
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`\ntests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
  if (r.numTotalTests === 0) {
    console.error('No test ran.');
    process.exit(1);
  }
} catch {
  console.error('jest wrote no results');
}
process.exit(run.status ?? 1);
