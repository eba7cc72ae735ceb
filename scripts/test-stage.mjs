#!/usr/bin/env node
// `npm run test:stage -- --stage X`: the test/e2e suite against a deployed stage.
// URL: API_URL, or the HttpApiUrl that `serverless info --stage X --verbose` prints.
// Tokens: E2E_TOKEN_COMMAND (`<cmd> <userId> [--admin]` prints one), or HS256 with
// AUTH_JWT_SECRET when the stage verifies with that secret.
import { execFileSync, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const args = process.argv.slice(2);
const stageAt = args.indexOf('--stage');
const stage = stageAt >= 0 ? args[stageAt + 1] : undefined;
let url = process.env.API_URL;
if (!url) {
  if (!stage) {
    console.error('usage: npm run test:stage -- --stage <stage>   (or set API_URL)');
    process.exit(2);
  }
  const info = execFileSync(process.execPath, [require.resolve('serverless/bin/serverless.js'), 'info', '--stage', stage, '--verbose'], { encoding: 'utf8' });
  url = /HttpApiUrl:\s*(\S+)/.exec(info)?.[1];
  if (!url) {
    console.error(`No HttpApiUrl in \`serverless info --stage ${stage}\`:\n${info}`);
    process.exit(1);
  }
}
if (!process.env.E2E_TOKEN_COMMAND && !process.env.AUTH_JWT_SECRET) {
  console.error('Set E2E_TOKEN_COMMAND or AUTH_JWT_SECRET so the suite can authenticate.');
  process.exit(2);
}
console.log(`Running test/e2e against ${url}`);
const run = spawnSync(process.execPath, [join(dirname(require.resolve('jest/package.json')), 'bin/jest.js'), 'test/e2e', '--runInBand'], {
  stdio: 'inherit',
  env: { ...process.env, API_URL: url, WALLET_SKIP_BUILD: '1' },
});
process.exit(run.status ?? 1);
