// Connection scale the way AWS runs it: every concurrent Lambda instance holds its
// own small pg pool. 500 simulated instances (each its own App: pool max 1 or 2,
// one request at a time) make keyed transfers (each with a fresh Idempotency-Key,
// through the use case) for 10 s through PgBouncer in transaction mode; then the
// same load straight to PostgreSQL with as many instances as its free connections
// allow. Reports transfers/s, latency, errors and the most server connections seen.
// Usage: npm run pgbouncer && node scripts/run-ts.mjs bench/pg-scale.ts
//   (POSTGRES_HOST/PORT/USER: the server; BENCH_POOLER_PORT, default 6432;
//    BENCH_SCALE_INSTANCES, default 500; database wallet_pg_scale, created if missing.)
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { Client } from 'pg';
import { openPostgresStorage } from '../src/adapters/postgres';
import { buildApp, type App } from '../src/composition-root';
import { parseConfig, type Config } from '../src/config';

const INSTANCES = Number(process.env.BENCH_SCALE_INSTANCES ?? 500);
const RUN_MS = 10_000;
const ACCOUNTS = 1_000;
const DATABASE = 'wallet_pg_scale';
/** Connections left free for everyone else on a shared server. */
const DIRECT_MARGIN = 15;

const configFor = (port: number, poolMax: number): Config =>
  parseConfig({
    ...process.env,
    AUTH_JWT_SECRET: 'bench-secret-not-used-here',
    STORAGE: 'postgres',
    POSTGRES_PORT: String(port),
    POSTGRES_DB: DATABASE,
    POSTGRES_SYNC: 'false',
    POSTGRES_POOL_MAX: String(poolMax),
    // Many instances queue for a few server connections: a wait is not an outage.
    POSTGRES_CONNECT_TIMEOUT_MS: '10000',
    POSTGRES_STATEMENT_TIMEOUT_MS: '10000',
    LOG_LEVEL: 'SILENT',
  });
const server = configFor(Number(process.env.POSTGRES_PORT ?? 5432), 4);
const poolerPort = Number(process.env.BENCH_POOLER_PORT ?? 6432);

const reachable = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = connect({ host: server.postgres.host, port, timeout: 1000 }, () => (s.end(), resolve(true)));
    s.on('error', () => resolve(false));
    s.on('timeout', () => (s.destroy(), resolve(false)));
  });

const adminClient = async (port: number, database: string): Promise<Client> => {
  const c = new Client({ host: server.postgres.host, port, user: server.postgres.user, password: server.postgres.password, database });
  await c.connect();
  return c;
};

/**
 * Polls pg_stat_activity (straight to the server) for the most backends on the bench
 * database and, through a pooler, its admin console for the most clients connected.
 */
const watchConnections = async (poolerPort?: number): Promise<{ stop: () => Promise<{ server: number; clients: number }> }> => {
  const c = await adminClient(server.postgres.port, 'postgres');
  const pooler = poolerPort === undefined ? undefined : await adminClient(poolerPort, 'pgbouncer').catch(() => undefined);
  let server_ = 0;
  let clients = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const { rows } = await c.query<{ n: string }>("SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1 AND backend_type = 'client backend'", [DATABASE]);
      server_ = Math.max(server_, Number(rows[0]?.n ?? 0));
      if (pooler) {
        const pools = (await pooler.query<{ database: string; cl_active: string; cl_waiting: string }>('SHOW POOLS')).rows;
        const mine = pools.filter((p) => p.database === DATABASE);
        clients = Math.max(clients, mine.reduce((n, p) => n + Number(p.cl_active) + Number(p.cl_waiting), 0));
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      await c.end();
      await pooler?.end();
      return { server: server_, clients: pooler ? clients : server_ };
    },
  };
};

/** Waits until no backend is left on the bench database (PgBouncer closes idle ones after server_idle_timeout). */
const drained = async (): Promise<void> => {
  const c = await adminClient(server.postgres.port, 'postgres');
  try {
    for (let i = 0; i < 120; i++) {
      const { rows } = await c.query<{ n: string }>('SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1', [DATABASE]);
      if (Number(rows[0]?.n ?? 0) === 0) return;
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    await c.end();
  }
};

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0;

interface RunResult {
  instances: number;
  poolMax: string;
  perSecond: number;
  p50: number;
  p99: number;
  errors: number;
  firstErrors: string[];
  serverConnections: number;
  clientConnections: number;
}

const runLoad = async (port: number, instances: number, poolMaxOf: (i: number) => number, accounts: string[], pooled: boolean): Promise<RunResult> => {
  await drained();
  const apps: App[] = [];
  try {
    for (let i = 0; i < instances; i++) apps.push(await buildApp(configFor(port, poolMaxOf(i))));
    const pick = (): [string, string] => {
      const i = Math.floor(Math.random() * accounts.length);
      const j = (i + 1 + Math.floor(Math.random() * (accounts.length - 1))) % accounts.length;
      return [accounts[i] as string, accounts[j] as string];
    };
    const transfer = (a: App): Promise<unknown> => {
      const [from, to] = pick();
      return a.useCases.createTransfer({ id: from, isAdmin: false }, { toUserId: to, amount: 1, currency: 'USD', idempotencyKey: randomUUID() });
    };
    // Cold starts first (each instance connects and moves money once), outside the window.
    await Promise.all(apps.map((a) => transfer(a)));

    const watcher = await watchConnections(pooled ? port : undefined);
    const latencies: number[] = [];
    const errors: string[] = [];
    const started = Date.now();
    const end = started + RUN_MS;
    // Each instance serves one request at a time, as a Lambda instance does.
    await Promise.all(
      apps.map(async (a) => {
        while (Date.now() < end) {
          const t0 = performance.now();
          try {
            await transfer(a);
            latencies.push(performance.now() - t0);
          } catch (err) {
            errors.push(err instanceof Error ? `${err.name}: ${err.message}` : String(err));
          }
        }
      }),
    );
    const elapsed = Date.now() - started;
    const seen = await watcher.stop();
    latencies.sort((x, y) => x - y);
    const sizes = [...new Set(apps.map((a) => a.config.postgres.poolMax))].sort();
    return {
      instances,
      poolMax: sizes.join('–'),
      perSecond: (latencies.length * 1000) / elapsed,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      errors: errors.length,
      firstErrors: [...new Set(errors)].slice(0, 3),
      serverConnections: seen.server,
      clientConnections: seen.clients,
    };
  } finally {
    await Promise.all(apps.map((a) => a.storage.close().catch(() => undefined)));
  }
};

const main = async (): Promise<void> => {
  // Setup straight to the server: the database (created if missing), schema, funded accounts.
  const setup = await openPostgresStorage({ ...server.postgres, runMigrations: true });
  const run = randomUUID().slice(0, 8);
  const accounts = Array.from({ length: ACCOUNTS }, (_, i) => `scale-${run}-${i}`);
  try {
    const at = new Date().toISOString();
    for (let i = 0; i < accounts.length; i += 50) {
      await Promise.all(
        accounts.slice(i, i + 50).map(async (id) => {
          await setup.users.create({ id, email: `${id}@example.com`, name: 'Scale', createdAt: at });
          const d = await setup.ledger.createDeposit({ id: randomUUID(), type: 'deposit', status: 'pending', userId: id, amount: 1_000_000_000, currency: 'USD', metadata: {}, createdAt: at, updatedAt: at });
          await setup.ledger.settle({ id: d.id, status: 'completed', now: new Date().toISOString() });
        }),
      );
    }
  } finally {
    await setup.close();
  }

  const admin = await adminClient(server.postgres.port, 'postgres');
  const setting = async (name: string): Promise<number> => Number((await admin.query<{ v: string }>('SELECT current_setting($1) AS v', [name])).rows[0]?.v);
  const maxConnections = await setting('max_connections');
  const reserved = await setting('superuser_reserved_connections');
  const inUse = Number((await admin.query<{ n: string }>('SELECT count(*) AS n FROM pg_stat_activity')).rows[0]?.n ?? 0);
  const version = (await admin.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]?.v ?? '?';
  await admin.end();

  const rows: string[] = [];
  const row = (path: string, r: RunResult): string =>
    `| ${path} | ${r.instances} (pool max ${r.poolMax}) | ${r.clientConnections} | ${r.serverConnections} | ${Math.round(r.perSecond)} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.errors} |`;
  const notes: string[] = [];

  let poolSize = '?';
  if (await reachable(poolerPort)) {
    try {
      const console_ = await adminClient(poolerPort, 'pgbouncer');
      const { rows: cfg } = await console_.query<{ key: string; value: string }>('SHOW CONFIG');
      poolSize = cfg.find((c) => c.key === 'default_pool_size')?.value ?? '?';
      await console_.end();
    } catch {
      // The admin console is optional; the server-side count below is what matters.
    }
    const pooled = await runLoad(poolerPort, INSTANCES, (i) => 1 + (i % 2), accounts, true);
    rows.push(row(`through PgBouncer (transaction mode, pool ${poolSize})`, pooled));
    if (pooled.errors) notes.push(`Errors through PgBouncer: ${pooled.firstErrors.join('; ')}`);
  } else {
    notes.push(`PgBouncer was not reachable on port ${poolerPort} (start it with \`npm run pgbouncer\`): that row did not run.`);
  }
  const directInstances = Math.max(1, Math.min(INSTANCES, maxConnections - reserved - inUse - DIRECT_MARGIN));
  const direct = await runLoad(server.postgres.port, directInstances, () => 1, accounts, false);
  rows.push(row('straight to PostgreSQL', direct));
  if (direct.errors) notes.push(`Errors straight to PostgreSQL: ${direct.firstErrors.join('; ')}`);

  console.log(`## PostgreSQL at Lambda scale (PgBouncer)

${INSTANCES} simulated Lambda instances, each its own App with its own \`pg\` pool (max 1 or 2, alternating) and one
request at a time, make keyed transfers (a fresh Idempotency-Key each, through the use case: claim, guarded debit and
credit, record) between random pairs of ${ACCOUNTS} accounts for ${RUN_MS / 1000} s through PgBouncer in transaction
pooling mode (\`.ci/pgbouncer.ini\`), next to the same load straight to PostgreSQL with as many instances (one
connection each) as its free connections allow (max_connections ${maxConnections}, ${inUse} in use by others, ${DIRECT_MARGIN} left free).
Connections: the most seen in the 10 s window, polled every 100 ms: client connections from PgBouncer's \`SHOW POOLS\`
(\`cl_active\` + \`cl_waiting\`), server connections as backends on the bench database in \`pg_stat_activity\`.
PostgreSQL ${version}, Node ${process.version}, all on loopback in one process.

| path | instances | client connections (max seen) | server connections (max seen) | transfers/s | p50 ms | p99 ms | errors |
|---|---|---|---|---|---|---|---|
${rows.join('\n')}
${notes.length ? `\n${notes.join('\n')}\n` : ''}`);
};

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
