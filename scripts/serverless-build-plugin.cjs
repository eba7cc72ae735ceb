// A local serverless plugin: bundles the handlers with scripts/build.mjs before
// `serverless package` / `deploy` (for the stage's storage only) and before
// `serverless offline` (all storages, chosen at run time by STORAGE).
const { execFileSync } = require('node:child_process');
const { existsSync, readFileSync } = require('node:fs');
const { join } = require('node:path');

class BuildPlugin {
  constructor(serverless) {
    let built = false;
    const run = (storage, tracing = false, local = false) => async () => {
      // The test harness builds once up front; parallel servers must not rebuild.
      if (process.env.WALLET_SKIP_BUILD === '1' || built) return;
      built = true;
      // `npm start` bundles (and creates a first PGlite data directory) while serverless
      // loads: wait for that work, each step writing its exit code to a file when done.
      if (local && process.env.WALLET_PREBUILD) {
        for (const done of JSON.parse(process.env.WALLET_PREBUILD)) {
          while (!existsSync(done)) await new Promise((resolve) => setTimeout(resolve, 20));
          if (readFileSync(done, 'utf8').trim() !== '0') throw new Error(`npm start: a preparation step failed (${done}; see above)`);
        }
        return;
      }
      // custom.buildDir: .build/package by default, .build/local under `npm start`.
      const outdir = serverless.service.custom?.buildDir || '.build/package';
      serverless.cli.log(`Bundling handlers into ${outdir} (storage: ${storage}; unchanged ones are reused)`);
      execFileSync(process.execPath, [join(serverless.config.servicePath, 'scripts/build.mjs')], {
        stdio: 'inherit',
        cwd: serverless.config.servicePath,
        env: { ...process.env, BUILD_STORAGE: storage, BUILD_TRACING: String(tracing), BUILD_OUTDIR: outdir, BUILD_LOCAL: String(local) },
      });
    };
    const stageStorage = () => {
      const { environment, tracing } = serverless.service.provider;
      return run(environment?.STORAGE || 'all', tracing?.lambda === true || tracing?.lambda === 'true')();
    };
    this.hooks = {
      'before:package:createDeploymentArtifacts': stageStorage,
      'before:deploy:function:packageFunction': stageStorage,
      // Local runs load the storage drivers from node_modules (BUILD_LOCAL, see build.mjs).
      'before:offline:start': run('all', false, true),
      'before:offline:start:init': run('all', false, true),
    };
  }
}

module.exports = BuildPlugin;
