// What a handler bundle loads before its first answer (bench/cold-start.mjs measures the
// time; CI holds it to a budget). Two things keep it low: src/config.ts reads the
// environment without zod, so functions that validate no body or query bundle no zod at
// all; and @middy/core's stream modules, imported at its top for response streaming,
// load only if a response is ever streamed (scripts/shims/middy-streams.cjs).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ReadableStream } from 'node:stream/web';
import { Readable } from 'node:stream';

const root = resolve(__dirname, '../..');
const outdir = join(root, '.build/cold-start-test');
const FUNCTIONS = ['get-user', 'health', 'create-transfer'];

const inputsOf = (name: string): string[] =>
  Object.keys((JSON.parse(readFileSync(join(outdir, 'meta', `${name}.json`), 'utf8')) as { inputs: Record<string, unknown> }).inputs);

describe('cold-start work of a handler bundle', () => {
  beforeAll(() => {
    execFileSync(process.execPath, ['scripts/build.mjs', ...FUNCTIONS], {
      cwd: root,
      env: { ...process.env, BUILD_STORAGE: 'memory', BUILD_OUTDIR: outdir },
      stdio: 'pipe',
    });
  }, 60_000);

  it('bundles zod only into functions with a body or query schema', () => {
    for (const name of ['get-user', 'health']) expect(inputsOf(name).filter((i) => i.includes('node_modules/zod/'))).toEqual([]);
    expect(inputsOf('create-transfer').some((i) => i.includes('node_modules/zod/'))).toBe(true);
  });

  it('loads no web streams at import, and the middy chain still answers', () => {
    // A fresh process: what the bundle itself loads, then one invocation.
    const script = `
      const { handler } = require(${JSON.stringify(join(outdir, 'health.js'))});
      const loaded = process.moduleLoadList.filter((m) => /^NativeModule (stream\\/web$|internal\\/webstreams\\/readablestream)/.test(m));
      handler({ version: '2.0', routeKey: 'GET /health', rawPath: '/health', rawQueryString: '', headers: {},
        requestContext: { http: { method: 'GET', path: '/health' }, requestId: 'r' }, isBase64Encoded: false },
        { awsRequestId: 'r', getRemainingTimeInMillis: () => 30000 })
        .then((res) => { process.stdout.write(JSON.stringify({ loaded, status: res.statusCode })); process.exit(0); });`;
    const out = execFileSync(process.execPath, ['-e', script], {
      cwd: root,
      env: { PATH: process.env.PATH, STORAGE: 'memory', AUTH_JWT_SECRET: 'cold-start-test-secret-0123456789', LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true' },
      encoding: 'utf8',
    });
    expect(JSON.parse(out)).toEqual({ loaded: [], status: 200 });
  });

  it('gives middy the real stream exports when it asks for them', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the shim is CommonJS, bundled in place of node:stream*
    const shim = require('../../scripts/shims/middy-streams.cjs') as { Readable: unknown; pipeline: unknown; ReadableStream: unknown };
    expect(shim.Readable).toBe(Readable);
    expect(shim.pipeline).toBe(pipeline);
    expect(shim.ReadableStream).toBe(ReadableStream);
  });
});
