// A TCP proxy in front of Redis that a test can take down and bring back on the same
// port, to simulate an unreachable server without touching the shared one.
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface RedisProxy {
  port: number;
  /** Keeps forwarding commands but throws Redis's replies away: writes apply, callers never hear. */
  dropReplies(): void;
  /** Drops every connection and refuses new ones (and stops dropping replies). */
  stop(): Promise<void>;
  /** Accepts connections again on the same port. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export const startRedisProxy = async (target: { host: string; port: number }): Promise<RedisProxy> => {
  const sockets = new Set<Socket>();
  const track = (s: Socket): void => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  };
  let server: Server | undefined;
  let port = 0;
  let dropping = false;

  const listen = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const s = createServer((client) => {
        const upstream = connect(target.port, target.host);
        track(client);
        track(upstream);
        client.pipe(upstream);
        upstream.on('data', (chunk: Buffer) => {
          if (!dropping) client.write(chunk);
        });
        const drop = (): void => {
          client.destroy();
          upstream.destroy();
        };
        client.on('error', drop);
        upstream.on('error', drop);
        client.on('close', drop);
        upstream.on('close', drop);
      });
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        const address = s.address();
        if (address && typeof address === 'object') port = address.port;
        server = s;
        resolve();
      });
    });

  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      dropping = false;
      if (!server) return resolve();
      server.close(() => resolve());
      server = undefined;
    });

  await listen();
  return {
    get port() {
      return port;
    },
    dropReplies: () => {
      dropping = true;
    },
    stop,
    start: listen,
    close: stop,
  };
};
