// scripts/build.mjs reuses a bundle whose inputs and options did not change (what makes a
// second `npm start` fast) and rebuilds when they did.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'wallet-build-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const build = (env: Record<string, string> = {}): string =>
  execFileSync(process.execPath, ['scripts/build.mjs', 'health', 'not-found'], {
    cwd: root, encoding: 'utf8', env: { ...process.env, BUILD_STORAGE: 'memory', BUILD_OUTDIR: dir, ...env },
  });

it('reuses unchanged bundles, also after a touch without a change, and rebuilds when the options change', () => {
  expect(build()).toMatch(/built 2 of 2 functions/);
  const bundle = join(dir, 'health.js');
  const first = statSync(bundle).mtimeMs;

  expect(build()).toMatch(/2 functions up to date/);
  // Same content, new mtime (a checkout, an editor save): compared by hash, still reused.
  const later = new Date(Date.now() + 5_000);
  utimesSync(join(root, 'functions', 'health.ts'), later, later);
  expect(build()).toMatch(/2 functions up to date/);
  expect(statSync(bundle).mtimeMs).toBe(first);

  expect(build({ BUILD_TRACING: 'true' })).toMatch(/built 2 of 2 functions/);
  expect(build({ BUILD_TRACING: 'true', BUILD_FORCE: '1' })).toMatch(/built 2 of 2 functions/);
});
