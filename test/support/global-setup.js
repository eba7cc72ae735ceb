// Builds the handler bundles once before any suite starts servers from them.
const { execFileSync } = require('node:child_process');
const { join } = require('node:path');

module.exports = async () => {
  if (process.env.WALLET_SKIP_BUILD === '1') return;
  execFileSync(process.execPath, [join(__dirname, '../../scripts/build.mjs')], { stdio: 'inherit', env: { ...process.env, BUILD_STORAGE: 'all' } });
};
