// Builds the handler bundles once before any suite starts servers from them.
const { execFileSync } = require('node:child_process');
const { join } = require('node:path');

// Its own folder: a running `npm start` rebuilds .build/ and must not race the tests.
const TEST_BUILD_DIR = '.build/test';

module.exports = async () => {
  if (process.env.WALLET_SKIP_BUILD === '1') return;
  execFileSync(process.execPath, [join(__dirname, '../../scripts/build.mjs')], { stdio: 'inherit', env: { ...process.env, BUILD_STORAGE: 'all', BUILD_OUTDIR: TEST_BUILD_DIR } });
};
