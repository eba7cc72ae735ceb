// `npm run sandbox:gateway [-- flags]`: the sandbox payment gateway on 127.0.0.1, accepting
// `Authorization: Bearer $PAYMENT_API_KEY` ('sandbox-key'). Its port is SANDBOX_GATEWAY_PORT
// (or --port; default 4010) — not PORT, which is `npm start`'s. Faults come from flags.
import { parseArgs } from 'node:util';
import { startSandboxGateway, type SandboxFaultStep } from './sandbox-gateway';

const USAGE = `usage: npm run sandbox:gateway -- [--port N] [fault] [--times N]
  --port N                      listen on N (default: SANDBOX_GATEWAY_PORT or 4010)
faults (at most one; every request gets it unless --times is given):
  --latency MS                  wait MS before answering (over PAYMENT_TIMEOUT_MS: the client gives up, nothing charged)
  --status CODE                 answer CODE without charging (500, 503, 429, ...); with --retry-after S
  --drop                        close the connection without charging
  --drop-after-processing       charge, then close the connection (outcome unknown to the client)
  --timeout-after-processing MS charge, then answer only after MS
  --times N                     only the next N requests get the fault, then it behaves again`;

const int = (name: string, value: string | undefined, min: number, max: number): number | undefined => {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be an integer from ${min} to ${max}\n${USAGE}`);
  return n;
};

export const faultFromArgs = (argv: string[]): { port: number; fault: SandboxFaultStep | undefined } => {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      port: { type: 'string' },
      latency: { type: 'string' },
      status: { type: 'string' },
      'retry-after': { type: 'string' },
      drop: { type: 'boolean' },
      'drop-after-processing': { type: 'boolean' },
      'timeout-after-processing': { type: 'string' },
      times: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const port = int('--port / SANDBOX_GATEWAY_PORT', values.port ?? process.env.SANDBOX_GATEWAY_PORT ?? '4010', 0, 65535) ?? 4010;
  const latency = int('--latency', values.latency, 1, 600_000);
  const status = int('--status', values.status, 400, 599);
  const retryAfterSeconds = int('--retry-after', values['retry-after'], 0, 86_400);
  const late = int('--timeout-after-processing', values['timeout-after-processing'], 1, 600_000);
  const times = int('--times', values.times, 1, 1_000_000) ?? Infinity;
  const faults: SandboxFaultStep[] = [
    ...(latency !== undefined ? [{ kind: 'latency' as const, ms: latency, times }] : []),
    ...(status !== undefined ? [{ kind: 'status' as const, status, times, ...(retryAfterSeconds !== undefined && { retryAfterSeconds }) }] : []),
    ...(values.drop ? [{ kind: 'drop' as const, times }] : []),
    ...(values['drop-after-processing'] ? [{ kind: 'drop' as const, afterProcessing: true, times }] : []),
    ...(late !== undefined ? [{ kind: 'timeout-after-processing' as const, ms: late, times }] : []),
  ];
  if (faults.length > 1) throw new Error(`at most one fault at a time\n${USAGE}`);
  if (retryAfterSeconds !== undefined && status === undefined) throw new Error(`--retry-after goes with --status\n${USAGE}`);
  return { port, fault: faults[0] };
};

const describeFault = (f: SandboxFaultStep): string => {
  const what = f.kind === 'latency' ? `${f.ms} ms latency`
    : f.kind === 'status' ? `status ${f.status}${f.retryAfterSeconds !== undefined ? ` (Retry-After ${f.retryAfterSeconds})` : ''}`
      : f.kind === 'drop' ? (f.afterProcessing ? 'charge, then drop the connection' : 'drop the connection')
        : `charge, then answer after ${f.ms} ms`;
  return `${what} for ${f.times === Infinity || f.times === undefined ? 'every request' : `the next ${f.times} request(s)`}`;
};

const main = async (): Promise<void> => {
  const { port, fault } = faultFromArgs(process.argv.slice(2));
  const gateway = await startSandboxGateway({ apiKey: process.env.PAYMENT_API_KEY ?? 'sandbox-key', port });
  if (fault) gateway.setFault(fault);
  // The key is never printed: only where it came from.
  console.log(`sandbox payment gateway on ${gateway.url} (key from ${process.env.PAYMENT_API_KEY ? 'PAYMENT_API_KEY' : "the default 'sandbox-key'"})`);
  console.log('tokens: tok_ok (succeeded), tok_pending (pending until polled once), tok_declined (declined)');
  console.log('refund tokens: tok_refund_pending (its refunds pending until polled once), tok_refund_declined (its refunds declined)');
  console.log(`faults: ${fault ? describeFault(fault) : 'none (see --help)'}`);
  const stop = (): void => {
    void gateway.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
};

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
