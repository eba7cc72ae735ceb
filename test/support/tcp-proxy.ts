// A controllable TCP proxy for fault tests: put it between a client and a server
// (PostgreSQL, Redis, ...) and break the network on demand, without touching the
// shared server. cut() kills live connections, pause() refuses new ones,
// blackhole() accepts them but never answers (a hung network), resume() heals,
// stall() holds every request for a while and then delivers it (like Redis's
// CLIENT PAUSE, for this proxy's connections only).
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  /** The port clients connect to (on 127.0.0.1). */
  port: number;
  /** Destroys every live connection, both sides. */
  cut(): void;
  /** New connections are reset at once (ECONNRESET / "Connection terminated"); live ones are untouched. */
  pause(): void;
  /** New connections are accepted but nothing is forwarded: clients hit their timeouts. */
  blackhole(): void;
  /**
   * For `ms`, bytes from clients (live and new connections) are held, not lost;
   * then delivered in order. Connections stay open and replies already on their
   * way still arrive: the server looks paused.
   */
  stall(ms: number): Promise<void>;
  /** Back to forwarding new connections. */
  resume(): void;
  /** Local ports of the proxy's upstream sockets (= client_port in pg_stat_activity). */
  upstreamPorts(): number[];
  /** Number of live client connections. */
  connections(): number;
  close(): Promise<void>;
}

type Mode = 'forward' | 'refuse' | 'blackhole';

export const startTcpProxy = async (target: { host: string; port: number }): Promise<TcpProxy> => {
  let mode: Mode = 'forward';
  let stalled = false;
  const held = new Map<Socket, Buffer[]>();
  const pairs = new Set<{ client: Socket; upstream?: Socket }>();

  const server: Server = createServer((client) => {
    if (mode === 'refuse') {
      client.resetAndDestroy();
      return;
    }
    const pair: { client: Socket; upstream?: Socket } = { client };
    pairs.add(pair);
    const drop = (): void => {
      pairs.delete(pair);
      client.destroy();
      pair.upstream?.destroy();
    };
    client.on('error', drop).on('close', drop);
    if (mode === 'blackhole') return;
    const upstream = connect(target.port, target.host);
    pair.upstream = upstream;
    upstream.on('error', drop).on('close', drop);
    client.on('data', (chunk: Buffer) => {
      if (stalled) {
        const queue = held.get(upstream) ?? [];
        queue.push(chunk);
        held.set(upstream, queue);
      } else {
        upstream.write(chunk);
      }
    });
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no TCP address');

  const cut = (): void => {
    for (const { client, upstream } of [...pairs]) {
      client.destroy();
      upstream?.destroy();
    }
    pairs.clear();
  };

  return {
    port: address.port,
    cut,
    pause: () => void (mode = 'refuse'),
    blackhole: () => void (mode = 'blackhole'),
    stall: async (ms) => {
      stalled = true;
      await new Promise((r) => setTimeout(r, ms));
      stalled = false;
      for (const [upstream, chunks] of held) if (!upstream.destroyed) for (const c of chunks) upstream.write(c);
      held.clear();
    },
    resume: () => void (mode = 'forward'),
    upstreamPorts: () => [...pairs].flatMap((p) => (p.upstream?.localPort !== undefined ? [p.upstream.localPort] : [])),
    connections: () => pairs.size,
    close: () =>
      new Promise<void>((resolve) => {
        cut();
        server.close(() => resolve());
      }),
  };
};
