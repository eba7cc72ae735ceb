// Dependencies point inward: core imports nothing of ours outside core and no
// driver or AWS package; adapters never reach into http, functions or the
// composition root.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(__dirname, '../..');
const filesUnder = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    return statSync(full).isDirectory() ? filesUnder(full) : full.endsWith('.ts') ? [full] : [];
  });
const importsOf = (file: string): string[] =>
  [...readFileSync(file, 'utf8').matchAll(/(?:from\s+|import\(\s*)['"]([^'"]+)['"]/g)].map((m) => m[1] as string);
const resolved = (file: string, spec: string): string => relative(root, resolve(dirname(file), spec));

describe('architecture', () => {
  it('keeps src/core free of adapters, http, drivers, AWS and process.env', () => {
    for (const file of filesUnder(join(root, 'src/core'))) {
      for (const spec of importsOf(file)) {
        if (spec.startsWith('.')) expect([file, resolved(file, spec).startsWith('src/core')]).toEqual([file, true]);
        else expect([file, spec.startsWith('node:')]).toEqual([file, true]);
      }
      expect([file, readFileSync(file, 'utf8').includes('process.env')]).toEqual([file, false]);
    }
  });

  it('keeps adapters away from http, functions and the composition root', () => {
    for (const file of filesUnder(join(root, 'src/adapters'))) {
      for (const spec of importsOf(file).filter((s) => s.startsWith('.'))) {
        const target = resolved(file, spec);
        expect([file, /^(src\/http|functions|src\/composition-root)/.test(target)]).toEqual([file, false]);
      }
    }
  });

  it('reads process.env only in src/config.ts among the product code', () => {
    const readers = [...filesUnder(join(root, 'src')), ...filesUnder(join(root, 'functions'))]
      .filter((f) => readFileSync(f, 'utf8').includes('process.env'))
      .map((f) => relative(root, f));
    expect(readers).toEqual(['src/config.ts']);
  });
});
