// Storage faults for proof 2. PostgreSQL: pg_terminate_backend of the API's
// connections (only its own database, only application_name 'wallet-service') and
// one brief real stop/start of the local server. Redis: the API is put behind a TCP
// proxy, so its connections are identifiable (CLIENT KILL ID of the proxy's upstream
// sockets only) and an outage is the proxy refusing and cutting everything — a real
// Redis restart would wipe the shared, non-persistent server.
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { directClient } from '../support/postgres';
import { startTcpProxy } from '../support/tcp-proxy';
import type { StorageFaults } from './bank-faults';

const run = promisify(execFile);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const pgCluster = (): string[] => {
  const versions = readdirSync('/etc/postgresql');
  return ['--skip-systemctl-redirect', versions[0] ?? '15', 'main'];
};

const pgIsUp = async (): Promise<boolean> =>
  run('pg_ctlcluster', [...pgCluster(), 'status']).then(() => true, () => false);

/**
 * Starts the local PostgreSQL if it is down, retrying for up to 30 s (a start right
 * after a fast stop can fail while the old postmaster is still letting go of its
 * port): our own stop must never outlive the fault.
 */
export const ensurePostgresRunning = async (): Promise<void> => {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (await pgIsUp()) return;
    await run('pg_ctlcluster', [...pgCluster(), 'start']).catch((err: unknown) => {
      if (Date.now() > deadline) throw err;
    });
    await sleep(500);
  }
};

export const postgresFaults = (database: string, { restart = true } = {}) => async (): Promise<StorageFaults> => {
  let terminated = 0;
  let restarts = 0;
  const terminate = async (): Promise<string> => {
    const c = await directClient(database).catch(() => undefined);
    if (!c) return 'skipped: server not reachable';
    try {
      const { rows } = await c.query<{ ok: boolean }>(
        `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
         WHERE datname = $1 AND pid <> pg_backend_pid() AND application_name = 'wallet-service'`,
        [database],
      );
      const n = rows.filter((r) => r.ok).length;
      terminated += n;
      return `terminated ${n} API backends of database ${database}`;
    } finally {
      await c.end().catch(() => undefined);
    }
  };
  const stopStart = async (): Promise<string> => {
    const t0 = Date.now();
    try {
      await run('pg_ctlcluster', [...pgCluster(), 'stop', '-m', 'fast']);
      await sleep(1_500);
    } finally {
      await ensurePostgresRunning();
    }
    restarts++;
    return `PostgreSQL stopped (fast) and started again, down ~${Date.now() - t0} ms`;
  };
  return {
    nemeses: [
      { name: 'pg_terminate_backend', at: 0.2, run: terminate },
      ...(restart ? [{ name: 'PostgreSQL stop/start', at: 0.5, run: stopStart }] : []),
      { name: 'pg_terminate_backend', at: 0.7, run: terminate },
    ],
    assertEffective: () => {
      expect(terminated).toBeGreaterThan(0);
      if (restart) expect(restarts).toBe(1);
    },
    close: ensurePostgresRunning,
  };
};

export const redisFaults = () => async (): Promise<StorageFaults> => {
  const target = { host: process.env.REDIS_HOST ?? '127.0.0.1', port: Number(process.env.REDIS_PORT ?? 6379) };
  const proxy = await startTcpProxy(target);
  const admin = new Redis({ ...target, lazyConnect: true, maxRetriesPerRequest: 1 });
  admin.on('error', () => undefined);
  await admin.connect();
  let killed = 0;
  let outages = 0;
  let pauses = 0;

  /** CLIENT KILL of exactly the API's connections: those whose address is one of the proxy's upstream sockets. */
  const killApiClients = async (): Promise<string> => {
    const ours = new Set(proxy.upstreamPorts());
    const list = (await admin.call('CLIENT', 'LIST')) as string;
    const ids = list
      .split('\n')
      .map((line) => ({ id: /\bid=(\d+)/.exec(line)?.[1], port: Number(/\baddr=[^ ]*:(\d+)/.exec(line)?.[1]) }))
      .filter((c) => c.id !== undefined && ours.has(c.port));
    for (const c of ids) killed += Number(await admin.call('CLIENT', 'KILL', 'ID', c.id as string));
    return `CLIENT KILL ID of ${ids.length} API connections (of ${list.trim().split('\n').length} on the server)`;
  };
  const outage = async (): Promise<string> => {
    proxy.pause();
    proxy.cut();
    await sleep(2_000);
    proxy.resume();
    outages++;
    return 'Redis unreachable for 2000 ms (connections cut, new ones refused), then back';
  };
  /**
   * What locked clients out before: CLIENT KILL of the API's connections every
   * ~1.5 s, with Redis paused for 3 s in the middle (commands held, not lost, like
   * CLIENT PAUSE 3000 ALL — done at the proxy, so the shared server is not paused
   * for anyone else).
   */
  const storm = async (): Promise<string> => {
    const done: string[] = [];
    for (let round = 0; round < 6; round++) {
      const k = await killApiClients();
      done.push(`+${round * 1.5}s ${k.replace(/ \(of.*/, '')}`);
      if (round === 2) {
        await proxy.stall(3_000);
        pauses++;
        done.push('Redis paused 3000 ms');
      } else {
        await sleep(1_500);
      }
    }
    return done.join('; ');
  };
  return {
    env: { REDIS_HOST: '127.0.0.1', REDIS_PORT: String(proxy.port) },
    nemeses: [
      { name: 'CLIENT KILL every 1.5 s with a 3 s pause', at: 0.15, run: storm },
      { name: 'Redis outage', at: 0.5, run: outage },
      { name: 'CLIENT KILL', at: 0.7, run: killApiClients },
    ],
    assertEffective: () => {
      expect(killed).toBeGreaterThan(0);
      expect(outages).toBe(1);
      expect(pauses).toBe(1);
    },
    close: async () => {
      admin.disconnect();
      await proxy.close();
    },
  };
};
