// `serverless package` and `npm start` bundle into different folders, so packaging while
// `npm start` runs cannot replace the bundles it is serving.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
const buildDir = (env: NodeJS.ProcessEnv): string => {
  const { WALLET_BUILD_DIR: _drop, ...rest } = process.env;
  return execFileSync(process.execPath, [require.resolve('serverless/bin/serverless.js'), 'print', '--stage', 'local', '--path', 'custom.buildDir', '--format', 'text'], {
    cwd: root, encoding: 'utf8', env: { ...rest, ...env }, timeout: 120_000,
  }).trim();
};

it('packages from .build/package, while npm start serves .build/local', () => {
  expect(buildDir({})).toBe('.build/package');
  expect(readFileSync(join(root, 'scripts', 'start.mjs'), 'utf8')).toMatch(/env\.WALLET_BUILD_DIR \?\?= '\.build\/local'/);
  expect(buildDir({ WALLET_BUILD_DIR: '.build/local' })).toBe('.build/local');
});
