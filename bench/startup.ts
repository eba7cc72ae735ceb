// `npm start` to the first 200: serverless-offline with all functions in one process,
// from spawn until GET /health answers 200 (which opens the storage), on PGlite (the
// embedded default, fresh and reopened data directory) against the memory store in
// the same run. Prints a markdown section.
// Usage: node scripts/run-ts.mjs bench/startup.ts [runs]   (after `npm run build` into .build/test)
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startOffline } from '../test/support/offline';

const RUNS = Number(process.argv[2] ?? 3);

const timeToFirst200 = async (env: Record<string, string>): Promise<number> => {
  const started = performance.now();
  const server = await startOffline({ AUTH_JWT_SECRET: 'startup-bench-secret-0123456789', LOG_LEVEL: 'ERROR', POWERTOOLS_METRICS_DISABLED: 'true', ...env });
  try {
    for (;;) {
      const res = await fetch(`${server.url}/health`);
      if (res.status === 200) return performance.now() - started;
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    await server.stop();
  }
};

const main = async (): Promise<void> => {
  const reused = mkdtempSync(join(tmpdir(), 'wallet-startup-'));
  const cases: Array<[string, () => Record<string, string>]> = [
    ['STORAGE=memory (baseline)', () => ({ STORAGE: 'memory' })],
    ['PGlite, new data directory', () => ({ STORAGE: 'pglite', DATA_DIR: mkdtempSync(join(tmpdir(), 'wallet-startup-')) })],
    ['PGlite, existing data directory', () => ({ STORAGE: 'pglite', DATA_DIR: reused })],
  ];
  await timeToFirst200({ STORAGE: 'pglite', DATA_DIR: reused }); // create it once
  const samples = new Map<string, number[]>(cases.map(([n]) => [n, []]));
  for (let i = 0; i < RUNS; i++) for (const [name, env] of cases) samples.get(name)?.push(await timeToFirst200(env()));
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
  const base = median(samples.get('STORAGE=memory (baseline)') ?? []);
  console.log([
    '## `npm start` until the first 200', '',
    `serverless-offline (--useInProcess) from spawn until GET /health answers 200; ${RUNS} interleaved runs, median (min–max) in ms.`, '',
    '| storage | time to first 200 | ratio to memory |', '|---|---:|---:|',
    ...cases.map(([name]) => {
      const xs = samples.get(name) ?? [];
      return `| ${name} | ${Math.round(median(xs))} (${Math.round(Math.min(...xs))}–${Math.round(Math.max(...xs))}) | ${(median(xs) / base).toFixed(2)} |`;
    }),
  ].join('\n'));
};

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
