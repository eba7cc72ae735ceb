// Starts the real stack — serverless-offline with the built handlers, in one
// process — on free ports, for end-to-end tests over HTTP.
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

export interface OfflineServer {
  url: string;
  /** Runs one function (a scheduled one) inside the server, through serverless-offline's Lambda Invoke endpoint. */
  invoke(functionName: string): Promise<void>;
  stop(): Promise<void>;
  output(): string;
}

export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      srv.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });

const root = join(__dirname, '../..');

/**
 * serverless-offline on two free ports. A port found free can be taken by another
 * process before the server binds it (suites run in parallel): then it starts again on
 * new ports, a few times.
 */
export const startOffline = async (env: Record<string, string>, timeoutMs = 60_000): Promise<OfflineServer> => {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(env, timeoutMs);
    } catch (err) {
      if (attempt >= 3 || !/EADDRINUSE/.test(String(err))) throw err;
    }
  }
};

const startOnce = async (env: Record<string, string>, timeoutMs: number): Promise<OfflineServer> => {
  const [httpPort, lambdaPort] = [await freePort(), await freePort()];
  const cli = require.resolve('serverless/bin/serverless.js', { paths: [root] });
  const child: ChildProcess = spawn(process.execPath, [cli, 'offline', 'start', '--stage', 'local'], {
    cwd: root,
    env: { ...process.env, ...env, PORT: String(httpPort), LAMBDA_PORT: String(lambdaPort), HOST: '127.0.0.1', WALLET_SKIP_BUILD: '1', WALLET_BUILD_DIR: '.build/test' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  // WALLET_OFFLINE_LOG=<file>: also append the server's output there (for debugging a run).
  const tee = process.env.WALLET_OFFLINE_LOG;
  const keep = (d: Buffer): void => {
    log += d.toString();
    if (tee) appendFileSync(tee, d);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const url = `http://127.0.0.1:${httpPort}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`serverless-offline exited early:\n${log}`);
    if (/Server ready/.test(log)) {
      try {
        const res = await fetch(`${url}/openapi.json`);
        if (res.ok) break;
      } catch {
        // not listening yet
      }
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`serverless-offline did not start in ${timeoutMs} ms:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const invoke = async (functionName: string): Promise<void> => {
    const res = await fetch(`http://127.0.0.1:${lambdaPort}/2015-03-31/functions/wallet-service-local-${functionName}/invocations`, { method: 'POST', body: '{}' });
    const text = await res.text();
    if (!res.ok || res.headers.get('x-amz-function-error')) throw new Error(`${functionName} failed (${res.status}): ${text}`);
  };
  return { url, invoke, stop, output: () => log };
};
