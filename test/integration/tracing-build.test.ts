// Tracing is opt-in at build time: BUILD_TRACING=true bundles Powertools' tracer
// into the middy chain; a default build carries none of it (checked for every
// function by scripts/check-bundles.mjs in CI). Here: the traced build works.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { apiGatewayEvent, lambdaContext } from '../support/api-gateway-event';

const root = resolve(__dirname, '../..');
const outdir = join(root, '.build/tracing-test');

const build = (tracing: boolean, dir: string): void => {
  execFileSync(process.execPath, ['scripts/build.mjs', 'health'], {
    cwd: root,
    env: { ...process.env, BUILD_STORAGE: 'memory', BUILD_TRACING: String(tracing), BUILD_OUTDIR: dir },
    stdio: 'pipe',
  });
};
const inputsOf = (dir: string): string[] => {
  const meta = JSON.parse(readFileSync(join(dir, 'meta/health.json'), 'utf8')) as { inputs: Record<string, unknown> };
  return Object.keys(meta.inputs);
};

describe('opt-in X-Ray tracing', () => {
  beforeAll(() => {
    build(true, outdir);
    build(false, `${outdir}-off`);
  }, 60_000);

  it('bundles the tracer only when asked', () => {
    expect(inputsOf(outdir).some((i) => i.includes('@aws-lambda-powertools/tracer'))).toBe(true);
    expect(inputsOf(`${outdir}-off`).some((i) => /tracer|xray/.test(i))).toBe(false);
  });

  it('answers through the traced middy chain', async () => {
    process.env.STORAGE = 'memory';
    process.env.AUTH_JWT_SECRET ??= 'tracing-test-secret-0123456789';
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the built bundle itself
    const { handler } = require(join(outdir, 'health.js')) as { handler: (e: unknown, c: unknown) => Promise<{ statusCode: number; body: string }> };
    const res = await handler(apiGatewayEvent({ method: 'GET', path: '/health', routeKey: 'GET /health' }), lambdaContext());
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ status: 'ok' });
  });
});
