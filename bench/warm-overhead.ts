// Warm overhead of the HTTP layer per invocation: the full handler (middy chain,
// JWT verification, body parsing, schema validation, error mapping, response) vs
// calling the same use case directly, in the same process, interleaved, on the
// memory store. Prints a markdown section.
// Usage: node scripts/run-ts.mjs bench/warm-overhead.ts [iterations]
import './quiet-metrics';
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';

const SECRET = 'warm-overhead-bench-secret-0123456789';
process.env.STORAGE = 'memory';
process.env.AUTH_JWT_SECRET = SECRET;
process.env.LOG_LEVEL = 'SILENT';

const ITERATIONS = Number(process.argv[2] ?? 3000);

const main = async (): Promise<void> => {
  // Imported after the environment is set: config is read at the first app() call.
  const { app } = await import('../src/composition-root');
  const { apiGatewayEvent, lambdaContext } = await import('../test/support/api-gateway-event');
  const getUser = (await import('../functions/get-user')).handler;
  const createTransfer = (await import('../functions/create-transfer')).handler;

  const { useCases } = await app();
  const [alice, bob] = [`bench-${randomUUID()}`, `bench-${randomUUID()}`];
  const token = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(alice).setExpirationTime('1h').sign(new TextEncoder().encode(SECRET));
  const caller = { id: alice, isAdmin: false };
  for (const id of [alice, bob]) await useCases.createUser({ id, isAdmin: false }, { email: `${id}@example.com`, name: 'Bench' });
  await useCases.createDeposit(caller, { userId: alice, amount: 100_000_000_000, currency: 'USD' });

  const time = async (fn: () => Promise<unknown>): Promise<number> => {
    const t = process.hrtime.bigint();
    await fn();
    return Number(process.hrtime.bigint() - t) / 1e6;
  };
  const cases = {
    'GET /users/{id}': {
      handler: () => getUser(apiGatewayEvent({ method: 'GET', path: `/users/${alice}`, routeKey: 'GET /users/{id}', pathParameters: { id: alice }, token }), lambdaContext()),
      direct: () => useCases.getUser(caller, alice),
    },
    'POST /transfers': {
      handler: () => createTransfer(apiGatewayEvent({ method: 'POST', path: '/transfers', routeKey: 'POST /transfers', token, body: { toUserId: bob, amount: 1, currency: 'USD' } }), lambdaContext()),
      direct: () => useCases.createTransfer(caller, { toUserId: bob, amount: 1, currency: 'USD' }),
    },
  };
  const median = (xs: number[]): number => {
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.floor(s.length / 2)] ?? NaN;
  };
  const p90 = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)] ?? NaN;

  const lines = [
    '## Warm overhead of the HTTP layer (per invocation)', '',
    `${ITERATIONS} interleaved invocations per row after a warm-up, memory store, one process. Handler = middy chain + JWT (HS256) + JSON parsing + schema validation + response; direct = the use case alone. Times in ms.`, '',
    '| route | handler median (p90) | direct median (p90) | overhead (median) |', '|---|---:|---:|---:|',
  ];
  for (const [route, c] of Object.entries(cases)) {
    for (let i = 0; i < 300; i++) {
      await c.handler();
      await c.direct();
    }
    const h: number[] = [];
    const d: number[] = [];
    for (let i = 0; i < ITERATIONS; i++) {
      h.push(await time(c.handler));
      d.push(await time(c.direct));
    }
    lines.push(`| ${route} | ${median(h).toFixed(3)} (${p90(h).toFixed(3)}) | ${median(d).toFixed(3)} (${p90(d).toFixed(3)}) | ${(median(h) - median(d)).toFixed(3)} |`);
  }
  console.log(lines.join('\n'));
};

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
