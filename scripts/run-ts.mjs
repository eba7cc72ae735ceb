#!/usr/bin/env node
// Runs a TypeScript entry point (a bench, the migration CLI, the sandbox gateway)
// by bundling it with esbuild into .build/run/ first: no ts-node needed.
// Usage: node scripts/run-ts.mjs path/to/file.ts [args...]
import { build } from 'esbuild';
import { spawn } from 'node:child_process';
import { basename, resolve } from 'node:path';

const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  console.error('usage: node scripts/run-ts.mjs <file.ts> [args...]');
  process.exit(2);
}
const outfile = resolve('.build/run', `${basename(entry).replace(/\.ts$/, '')}.cjs`);
await build({
  entryPoints: [entry],
  outfile,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: 'inline',
  packages: 'external',
  logLevel: 'warning',
});
const child = spawn(process.execPath, ['--enable-source-maps', outfile, ...args], { stdio: 'inherit' });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
