#!/usr/bin/env node
// `npm start`: the whole API on serverless-offline at http://localhost:${PORT:-3000},
// all functions in one process (--useInProcess) on the embedded default storage.
// Local conveniences only: a development JWT secret when none is configured.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEV_JWT_SECRET } from './dev-defaults.mjs';

const env = { ...process.env, IS_LOCAL: 'true' };
// Its own bundle folder: `serverless package` (.build/package) and the tests (.build/test)
// never overwrite the bundles a running `npm start` loads. Unchanged bundles are reused.
env.WALLET_BUILD_DIR ??= '.build/local';
// CloudWatch EMF metric lines are noise on a terminal; POWERTOOLS_METRICS_DISABLED=false shows them.
env.POWERTOOLS_METRICS_DISABLED ??= 'true';
if (!env.AUTH_JWT_SECRET && !env.AUTH_JWKS_URL && !env.APP_SECRET_ID) {
  env.AUTH_JWT_SECRET = DEV_JWT_SECRET;
  console.log('Using the local development JWT secret; get a token with: npm run token -- <userId> [--admin]');
}
// The app secret's local endpoint needs some credentials for the SDK to sign with.
if (env.APP_SECRET_ID && env.AWS_ENDPOINT_URL_SECRETS_MANAGER) {
  env.AWS_ACCESS_KEY_ID ??= 'local';
  env.AWS_SECRET_ACCESS_KEY ??= 'local';
  env.AWS_REGION ??= 'us-east-1';
}
// While serverless loads (seconds), two things run beside it: bundling the handlers and,
// on a first run of the embedded default, creating its PGlite data directory (initdb, the
// slowest part of a first start). The build plugin waits for both (WALLET_PREBUILD)
// before serverless-offline takes requests.
const outdir = env.WALLET_BUILD_DIR;
mkdirSync(join(outdir, 'meta'), { recursive: true });
const prework = [];
const inBackground = (name, args, childEnv = env) => {
  const done = join(outdir, 'meta', `${name}-${process.pid}.exit`);
  rmSync(done, { force: true });
  prework.push(done);
  spawn(process.execPath, args, { stdio: 'inherit', env: childEnv }).on('exit', (code) => writeFileSync(done, String(code ?? 1)));
};
if (env.WALLET_SKIP_BUILD !== '1') {
  inBackground('build', [fileURLToPath(new URL('build.mjs', import.meta.url))],
    { ...env, BUILD_STORAGE: 'all', BUILD_TRACING: 'false', BUILD_LOCAL: 'true', BUILD_OUTDIR: outdir });
}
const pgliteDir = resolve(env.DATA_DIR || '.data', 'pglite');
if (!env.APP_SECRET_ID && (!env.STORAGE || env.STORAGE === 'pglite') && !existsSync(pgliteDir)) {
  inBackground('pglite-init', [fileURLToPath(new URL('pglite-init.mjs', import.meta.url)), pgliteDir]);
}
if (prework.length > 0) env.WALLET_PREBUILD = JSON.stringify(prework);
const require = createRequire(import.meta.url);
const cli = require.resolve('serverless/bin/serverless.js');
const child = spawn(process.execPath, [cli, 'offline', 'start', '--stage', 'local', ...process.argv.slice(2)], { stdio: 'inherit', env });
child.on('exit', () => {
  for (const done of prework) rmSync(done, { force: true });
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 0 : 1)));
