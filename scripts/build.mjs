#!/usr/bin/env node
// Bundles each handler in functions/ into .build/<name>.js (CommonJS, minified,
// node20, AWS SDK v3 external — the Lambda runtime provides it) and keeps the
// esbuild metafile in .build/meta/<name>.json for size reports.
// BUILD_STORAGE=postgres|redis|mongodb|memory bundles only that storage driver
// (what a deployed stage uses); unset bundles all of them (local runs, tests).
import { build } from 'esbuild';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';

const storage = process.env.BUILD_STORAGE || 'all';
const valid = ['all', 'memory', 'pglite', 'postgres', 'redis', 'mongodb'];
if (!valid.includes(storage)) {
  console.error(`BUILD_STORAGE must be one of ${valid.join(', ')}`);
  process.exit(2);
}
const outdir = process.env.BUILD_OUTDIR || '.build';
// BUILD_TRACING=true bundles the X-Ray tracer; otherwise it is left out entirely.
const tracing = process.env.BUILD_TRACING === 'true';
const only = process.argv.slice(2);

const external = [
  '@aws-sdk/*',
  // PGlite ships wasm and data files; it is only used locally, from node_modules.
  '@electric-sql/pglite',
  // Optional peers of pg and mongodb that we do not use.
  'pg-native', 'kerberos', '@mongodb-js/zstd', 'snappy', 'mongodb-client-encryption', 'aws4', 'socks', 'gcp-metadata', '@aws-sdk/credential-providers',
];

const entries = (await readdir('functions'))
  .filter((f) => f.endsWith('.ts'))
  .map((f) => basename(f, '.ts'))
  .filter((name) => only.length === 0 || only.includes(name));

await rm(join(outdir, 'meta'), { recursive: true, force: true });
await mkdir(join(outdir, 'meta'), { recursive: true });
const started = Date.now();
await Promise.all(entries.map(async (name) => {
  const result = await build({
    entryPoints: [`functions/${name}.ts`],
    outfile: join(outdir, `${name}.js`),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    // Prefer ESM builds of dependencies: esbuild can tree-shake them.
    mainFields: ['module', 'main'],
    minify: true,
    legalComments: 'none',
    metafile: true,
    external,
    define: { __WALLET_STORAGE__: JSON.stringify(storage), __WALLET_TRACING__: String(tracing) },
    logLevel: 'warning',
  });
  await writeFile(join(outdir, 'meta', `${name}.json`), JSON.stringify(result.metafile));
}));
console.log(`built ${entries.length} functions (storage: ${storage}${tracing ? ', tracing' : ''}) into ${outdir}/ in ${Date.now() - started} ms`);
