// The layer rules live in .dependency-cruiser.cjs and are enforced by dependency-cruiser
// (also run on its own by `npm test`). Here: the real tree has no violation, and a
// deliberately broken miniature (test/fixtures/architecture) trips every rule, so a
// rule that silently stopped matching would be noticed.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const root = resolve(__dirname, '../..');
const CONFIG = join(root, '.dependency-cruiser.cjs');
const DEPCRUISE = join(root, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');

interface Violation { rule: { name: string }; from: string; to: string }

/** Runs the dependency-cruiser CLI on `paths` (relative to `cwd`) and returns its violations. */
const cruise = (cwd: string, paths: string[]): Violation[] => {
  const run = spawnSync(process.execPath, [DEPCRUISE, '--config', CONFIG, '--output-type', 'json', ...paths], { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const output = JSON.parse(run.stdout) as { summary: { violations: Violation[]; totalCruised: number } };
  expect(output.summary.totalCruised).toBeGreaterThan(0);
  return output.summary.violations;
};
const pairs = (violations: Violation[]) => violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`).sort();

describe('architecture (dependency-cruiser)', () => {
  it('the repository breaks no layer rule', () => {
    expect(pairs(cruise(root, ['src', 'functions', 'scripts', 'test']))).toEqual([]);
  });

  it('every rule fires on a tree that breaks it', () => {
    const found = pairs(cruise(join(root, 'test/fixtures/architecture'), ['src', 'functions', 'test']));
    expect(found).toEqual(expect.arrayContaining([
      'core-stays-pure: src/core/entity.ts → src/http/handler.ts',
      'core-stays-pure: src/core/entity.ts → src/adapters/memory/store.ts',
      'core-stays-pure: src/core/entity.ts → fs',
      'adapters-stay-outside-in: src/adapters/memory/store.ts → src/http/handler.ts',
      'adapters-stay-outside-in: src/adapters/memory/store.ts → src/composition-root.ts',
      'adapters-stay-outside-in: src/adapters/memory/store.ts → functions/fn.ts',
      'adapters-stay-outside-in: src/adapters/memory/store.ts → src/config.ts',
      'http-knows-no-adapter: src/http/handler.ts → src/adapters/memory/store.ts',
      'functions-are-thin: functions/fn.ts → src/core/entity.ts',
      'functions-are-thin: functions/fn.ts → src/adapters/memory/store.ts',
      'no-test-code-in-product: src/http/handler.ts → test/support/helper.ts',
    ]));
    // An npm package in core is a violation too (its resolved path depends on the install).
    expect(found.some((p) => /^core-stays-pure: src\/core\/entity\.ts → .*node_modules\/zod\//.test(p))).toBe(true);
    // What is allowed stays allowed: node:crypto in core, the root wiring adapters, test code importing test code.
    expect(found.filter((p) => p.includes('→ crypto') || p.startsWith('adapters-stay-outside-in: src/composition-root') || p.includes('test/support/other'))).toEqual([]);
    expect(found).toHaveLength(12);
  });
});

// Not an import, so out of dependency-cruiser's sight: the environment has one reader.
const filesUnder = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    return statSync(full).isDirectory() ? filesUnder(full) : full.endsWith('.ts') ? [full] : [];
  });

describe('configuration', () => {
  it('reads process.env only in src/config.ts among the product code', () => {
    const readers = [...filesUnder(join(root, 'src')), ...filesUnder(join(root, 'functions'))]
      .filter((f) => readFileSync(f, 'utf8').includes('process.env'))
      .map((f) => relative(root, f));
    expect(readers).toEqual(['src/config.ts']);
  });
});
