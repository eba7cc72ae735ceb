#!/usr/bin/env node
// Bundle-size budget: builds every function once per deployable storage and
// fails when a bundle is over budget. Prints a markdown report (each function's
// size and the top 5 contributors) to stdout; `--markdown FILE` also writes it.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// Redis builds carry their Lua scripts as text (holds, refunds and the outbox added
// ~20 KB of it, which minifying cannot shrink): 375 KB since those features.
const BUDGETS = { postgres: 350_000, redis: 375_000, mongodb: 1_000_000 };
const kb = (n) => `${(n / 1000).toFixed(1)} KB`;
const packageOf = (input) => {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
  return m ? m[1] : input.startsWith('src/') || input.startsWith('functions/') ? 'our code' : input;
};

const lines = ['## Bundle sizes (minified, per function)', ''];
let failed = false;
for (const [storage, budget] of Object.entries(BUDGETS)) {
  const outdir = `.build/size-${storage}`;
  execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'ignore', env: { ...process.env, BUILD_STORAGE: storage, BUILD_OUTDIR: outdir } });
  lines.push(`### STORAGE=${storage} (budget ${kb(budget)})`, '', '| function | size | top contributors |', '|---|---:|---|');
  for (const file of readdirSync(outdir).filter((f) => f.endsWith('.js')).sort()) {
    const name = file.replace(/\.js$/, '');
    const size = statSync(join(outdir, file)).size;
    const meta = JSON.parse(readFileSync(join(outdir, 'meta', `${name}.json`), 'utf8'));
    const byPackage = {};
    for (const output of Object.values(meta.outputs)) {
      for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
        const p = packageOf(input);
        byPackage[p] = (byPackage[p] ?? 0) + bytesInOutput;
      }
    }
    // Tracing is opt-in at build time: a default bundle must not carry the tracer.
    const traced = Object.keys(byPackage).filter((p) => /tracer|xray/.test(p));
    if (traced.length) {
      failed = true;
      lines.push(`| ${name} | carries ${traced.join(', ')} without BUILD_TRACING **FAIL** | |`);
    }
    const top = Object.entries(byPackage).sort((a, b) => b[1] - a[1]).slice(0, 5).map(([p, n]) => `${p} ${kb(n)}`).join(', ');
    const over = size > budget;
    failed ||= over;
    lines.push(`| ${name} | ${kb(size)}${over ? ' **OVER**' : ''} | ${top} |`);
  }
  lines.push('');
}
const report = lines.join('\n');
console.log(report);
const at = process.argv.indexOf('--markdown');
if (at >= 0 && process.argv[at + 1]) writeFileSync(process.argv[at + 1], report);
if (failed) {
  console.error('bundle budget exceeded');
  process.exit(1);
}
