#!/usr/bin/env node
// Bundles each handler in functions/ into <outdir>/<name>.js (CommonJS, minified,
// node20, AWS SDK v3 external — the Lambda runtime provides it) and keeps the
// esbuild metafile in <outdir>/meta/<name>.json for size reports.
// BUILD_STORAGE=postgres|redis|mongodb|memory bundles only that storage driver
// (what a deployed stage uses); unset bundles all of them (local runs, tests).
// BUILD_OUTDIR: where (default .build). Arguments: only these functions.
// BUILD_LOCAL=true: for `npm start` only (see below).
//
// Incremental: <outdir>/meta/inputs.json records, per function, the build options
// and a content hash of every input esbuild read (its metafile). A function whose
// inputs and options did not change keeps its bundle; the others are bundled in one
// esbuild call (shared parsing). BUILD_FORCE=1 rebuilds everything.
import { build, version as esbuildVersion } from 'esbuild';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';

const storage = process.env.BUILD_STORAGE || 'all';
const valid = ['all', 'memory', 'pglite', 'postgres', 'redis', 'mongodb'];
if (!valid.includes(storage)) {
  console.error(`BUILD_STORAGE must be one of ${valid.join(', ')}`);
  process.exit(2);
}
const outdir = process.env.BUILD_OUTDIR || '.build';
// BUILD_TRACING=true bundles the X-Ray tracer; otherwise it is left out entirely.
const tracing = process.env.BUILD_TRACING === 'true';
const force = process.env.BUILD_FORCE === '1';
// BUILD_LOCAL=true (`npm start`): the storage drivers stay in node_modules instead of
// being bundled into every function — they are most of each bundle's size, so building
// and loading every handler in one serverless-offline process is several times
// faster. Never for a deployed stage, whose zips must be self-contained.
const local = process.env.BUILD_LOCAL === 'true';
const only = process.argv.slice(2);

const external = [
  '@aws-sdk/*',
  // PGlite ships wasm and data files; it is only used locally, from node_modules.
  '@electric-sql/pglite',
  // Optional peers of pg and mongodb that we do not use.
  'pg-native', 'kerberos', '@mongodb-js/zstd', 'snappy', 'mongodb-client-encryption', 'aws4', 'socks', 'gcp-metadata', '@aws-sdk/credential-providers',
  ...(local ? ['mongodb', 'ioredis', 'pg'] : []),
];
// @middy/core imports node:stream, node:stream/promises and node:stream/web at the top
// for response streaming, which no handler uses: they load on first use instead
// (scripts/shims/middy-streams.cjs), not at every cold start.
const middyStreams = {
  name: 'middy-streams',
  setup(b) {
    b.onResolve({ filter: /^node:stream(\/web|\/promises)?$/ }, (args) =>
      (/[\\/]@middy[\\/]core[\\/]/.test(args.importer) ? { path: resolve('scripts/shims/middy-streams.cjs') } : undefined));
  },
};
const options = {
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
  // The MongoDB connection-string parser's URL: Node's own (scripts/shims/whatwg-url.cjs).
  alias: { 'whatwg-url': './scripts/shims/whatwg-url.cjs' },
  plugins: [middyStreams],
  define: { __WALLET_STORAGE__: JSON.stringify(storage), __WALLET_TRACING__: String(tracing) },
  logLevel: 'warning',
};
// Anything that changes the output besides the input files: the options, esbuild,
// this script, tsconfig.json (esbuild reads it) and the lockfile (module resolution).
const readOr = (path) => (existsSync(path) ? readFileSync(path, 'utf8') : '');
const optionsKey = createHash('sha256')
  .update(JSON.stringify({ options, esbuildVersion, script: readOr(new URL(import.meta.url)), tsconfig: readOr('tsconfig.json'), lock: readOr('package-lock.json') }))
  .digest('hex');

const entries = (await readdir('functions'))
  .filter((f) => f.endsWith('.ts'))
  .map((f) => basename(f, '.ts'))
  .filter((name) => only.length === 0 || only.includes(name));

await mkdir(join(outdir, 'meta'), { recursive: true });
const manifestPath = join(outdir, 'meta', 'inputs.json');
/** name → { options, inputs: { path: { size, mtimeMs, hash } } } */
const manifest = (() => {
  try {
    return JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch {
    return {};
  }
})();

const hashes = new Map();
const hashOf = (path) => {
  let h = hashes.get(path);
  if (h === undefined) {
    h = createHash('sha256').update(readFileSync(path)).digest('hex');
    hashes.set(path, h);
  }
  return h;
};
/** Unchanged: same size and mtime (no read), or else the same content. */
const unchanged = (path, recorded) => {
  try {
    const st = statSync(path);
    if (st.size === recorded.size && st.mtimeMs === recorded.mtimeMs) return true;
    return st.size === recorded.size && hashOf(path) === recorded.hash;
  } catch {
    return false;
  }
};
const upToDate = (name) => {
  const entry = manifest[name];
  return !force && entry?.options === optionsKey && existsSync(join(outdir, `${name}.js`)) && existsSync(join(outdir, 'meta', `${name}.json`))
    && Object.entries(entry.inputs).every(([path, recorded]) => unchanged(path, recorded));
};

const started = Date.now();
const stale = entries.filter((name) => !upToDate(name));
if (stale.length > 0) {
  const result = await build({ ...options, entryPoints: Object.fromEntries(stale.map((name) => [name, `functions/${name}.ts`])), outdir });
  const { inputs: allInputs, outputs } = result.metafile;
  await Promise.all(stale.map(async (name) => {
    const [outPath, output] = Object.entries(outputs).find(([, o]) => o.entryPoint === `functions/${name}.ts`) ?? [];
    if (!outPath) throw new Error(`esbuild produced no output for functions/${name}.ts`);
    // This function's own metafile: the inputs its bundle holds, and its output.
    const inputs = Object.fromEntries(Object.keys(output.inputs).map((p) => [p, allInputs[p]]));
    await writeFile(join(outdir, 'meta', `${name}.json`), JSON.stringify({ inputs, outputs: { [outPath]: output } }));
    // Every file esbuild read for it (tree-shaken ones included): any change re-bundles.
    const read = reachable(`functions/${name}.ts`, allInputs);
    manifest[name] = {
      options: optionsKey,
      inputs: Object.fromEntries([...read].filter((p) => existsSync(p)).map((p) => {
        const st = statSync(p);
        return [p, { size: st.size, mtimeMs: st.mtimeMs, hash: hashOf(p) }];
      })),
    };
  }));
  await writeFile(manifestPath, JSON.stringify(manifest));
}
const took = Date.now() - started;
console.log(stale.length === 0
  ? `${entries.length} functions up to date in ${outdir}/ (checked in ${took} ms)`
  : `built ${stale.length} of ${entries.length} functions (storage: ${storage}${tracing ? ', tracing' : ''}${local ? ', drivers from node_modules' : ''}) into ${outdir}/ in ${took} ms`);

/** The files reachable from `entry` through the imports esbuild resolved. */
function reachable(entry, inputs) {
  const seen = new Set();
  const stack = [entry];
  while (stack.length > 0) {
    const p = stack.pop();
    if (seen.has(p) || !inputs[p]) continue;
    seen.add(p);
    for (const imp of inputs[p].imports) if (!imp.external && imp.path) stack.push(imp.path);
  }
  return seen;
}
