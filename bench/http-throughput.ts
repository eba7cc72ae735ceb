// HTTP throughput through serverless-offline (all functions in one process, memory
// store) with autocannon, for reference: local serverless-offline is not API Gateway
// plus Lambda, but it exercises the same handlers end to end. Prints a markdown section.
// Usage: node scripts/run-ts.mjs bench/http-throughput.ts   (after `npm run build`)
import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import { startOffline } from '../test/support/offline';
import { e2eToken } from '../test/support/tokens-e2e';

const DURATION_S = 5;
const CONNECTIONS = 16;
const SECRET = 'http-bench-secret-0123456789-abcdef';

const main = async (): Promise<void> => {
  process.env.AUTH_JWT_SECRET = SECRET;
  const server = await startOffline({ STORAGE: 'memory', AUTH_JWT_SECRET: SECRET, LOG_LEVEL: 'ERROR', POWERTOOLS_METRICS_DISABLED: 'true' });
  try {
    const [alice, bob] = [`bench-${randomUUID()}`, `bench-${randomUUID()}`];
    const tokens = { [alice]: await e2eToken(alice), [bob]: await e2eToken(bob) };
    for (const id of [alice, bob]) {
      await fetch(`${server.url}/users`, { method: 'POST', headers: { authorization: `Bearer ${tokens[id]}`, 'content-type': 'application/json' }, body: JSON.stringify({ email: `${id}@example.com`, name: 'Bench' }) });
    }
    await fetch(`${server.url}/users/${alice}/deposits`, { method: 'POST', headers: { authorization: `Bearer ${tokens[alice]}`, 'content-type': 'application/json' }, body: JSON.stringify({ amount: 100_000_000_000, currency: 'USD' }) });
    const run = (title: string, { path, ...opts }: Partial<autocannon.Options> & { path: string }) =>
      autocannon({ url: `${server.url}${path}`, connections: CONNECTIONS, duration: DURATION_S, headers: { authorization: `Bearer ${tokens[alice]}`, 'content-type': 'application/json' }, title, ...opts });
    const rows: string[] = [];
    for (const [title, opts] of [
      ['GET /health', { path: '/health' }],
      ['GET /users/{id}', { path: `/users/${alice}` }],
      ['POST /transfers', { path: '/transfers', method: 'POST', body: JSON.stringify({ toUserId: bob, amount: 1, currency: 'USD' }) }],
    ] as const) {
      const r = await run(title, opts as Partial<autocannon.Options> & { path: string });
      const errors = r.errors + r.non2xx;
      rows.push(`| ${title} | ${Math.round(r.requests.average)} | ${r.latency.p50} | ${r.latency.p99} | ${errors} |`);
    }
    console.log([
      '## HTTP through serverless-offline (reference)', '',
      `autocannon, ${CONNECTIONS} connections, ${DURATION_S} s per route, STORAGE=memory, all functions in one process.`, '',
      '| route | requests/s (avg) | latency p50 ms | latency p99 ms | errors + non-2xx |', '|---|---:|---:|---:|---:|',
      ...rows,
    ].join('\n'));
  } finally {
    await server.stop();
  }
};

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
