// The repository stands alone: every link in README.md and docs/ resolves to a file inside
// it, and docs/api.md covers every route and error code of the published document.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = join(__dirname, '..', '..');
const markdown = ['README.md', 'BENCHMARKS.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

describe.each(markdown)('%s', (file) => {
  const text = readFileSync(join(root, file), 'utf8');

  it('links only to files inside the repository', () => {
    // No link leaves the repository (not even to a public web page): a link is an anchor
    // or a relative path that lands on a file of this repository.
    const targets = [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1] ?? '').filter((t) => !t.startsWith('#'));
    for (const target of targets) {
      expect({ target, scheme: /^[a-z]+:/i.test(target) }).toEqual({ target, scheme: false });
      const path = resolve(dirname(join(root, file)), target.split('#')[0] ?? '');
      expect({ target, inside: !relative(root, path).startsWith('..'), exists: existsSync(path) }).toEqual({ target, inside: true, exists: true });
    }
    expect(text).not.toMatch(/\.\.\/shared|api-contract/);
  });
});

describe('README.md commands', () => {
  const blocks = [...readFileSync(join(root, 'README.md'), 'utf8').matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');

  it('paste into bash and zsh as they are: no <placeholders>, no # comments', () => {
    expect(blocks.length).toBeGreaterThan(3);
    for (const block of blocks) {
      expect(block).not.toMatch(/<[a-z][\w-]*>/i);
      expect(block.split('\n').filter((line) => /(^|\s)#/.test(line))).toEqual([]);
    }
  });
});

describe('docs/api.md', () => {
  const api = readFileSync(join(root, 'docs', 'api.md'), 'utf8');
  const doc = JSON.parse(readFileSync(join(root, 'openapi.json'), 'utf8')) as {
    paths: Record<string, Record<string, unknown>>;
    components: { schemas: { ErrorCode: { enum: string[] } } };
  };

  it('has a section for every operation of openapi.json', () => {
    const operations = Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`));
    for (const op of operations) expect(api).toContain(`### \`${op}\``);
  });

  it('explains every error code', () => {
    for (const code of doc.components.schemas.ErrorCode.enum) expect(api).toMatch(new RegExp(`\\| \\d{3} \\| \`${code}\` \\|`));
  });
});
