// `npm run sandbox:gateway [-- flags]`: the sandbox payment gateway on 127.0.0.1, accepting
// `Authorization: Bearer $PAYMENT_API_KEY` ('sandbox-key'). Its port is SANDBOX_GATEWAY_PORT
// (or --port; default 4010) — not PORT, which is `npm start`'s. Faults come from flags.
// With --webhook-url it also posts signed webhooks when payments and refunds settle (sandbox-webhooks.ts).
import { parseArgs } from 'node:util';
import { startSandboxGateway, type SandboxFaultStep } from './sandbox-gateway';
import { startWebhookSender, WEBHOOK_MISBEHAVIOURS, type PaymentEvent, type WebhookMisbehaviour } from './sandbox-webhooks';

const USAGE = `usage: npm run sandbox:gateway -- [--port N] [fault] [--times N]
  --port N                      listen on N (default: SANDBOX_GATEWAY_PORT or 4010)
faults (at most one; every request gets it unless --times is given):
  --latency MS                  wait MS before answering (over PAYMENT_TIMEOUT_MS: the client gives up, nothing charged)
  --status CODE                 answer CODE without charging (500, 503, 429, ...); with --retry-after S
  --drop                        close the connection without charging
  --drop-after-processing       charge, then close the connection (outcome unknown to the client)
  --timeout-after-processing MS charge, then answer only after MS
  --times N                     only the next N requests get the fault, then it behaves again
webhooks (signed events to the wallet when a payment or refund settles; non-2xx answers are retried with backoff):
  --webhook-url URL             where to post them, e.g. http://localhost:3000/webhooks/payments
  --webhook-secret S            the secret to sign with (default: PAYMENT_WEBHOOK_SECRET)
  --settle-after MS             pending payments and refunds succeed by themselves after MS (default 3000 with
                                --webhook-url; without it they settle on their first status poll)
  --webhook-misbehave KINDS     the first events misbehave, one kind each, in order (comma-separated):
                                ${WEBHOOK_MISBEHAVIOURS.join(', ')}`;

export interface WebhookArgs {
  url: string;
  secret: string;
  misbehave: WebhookMisbehaviour[];
}

const int = (name: string, value: string | undefined, min: number, max: number): number | undefined => {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be an integer from ${min} to ${max}\n${USAGE}`);
  return n;
};

export const faultFromArgs = (argv: string[]): {
  port: number;
  fault: SandboxFaultStep | undefined;
  webhooks: WebhookArgs | undefined;
  settlePendingAfterMs: number | undefined;
} => {
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
      'webhook-url': { type: 'string' },
      'webhook-secret': { type: 'string' },
      'settle-after': { type: 'string' },
      'webhook-misbehave': { type: 'string' },
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
  const url = values['webhook-url'];
  const secret = values['webhook-secret'] ?? process.env.PAYMENT_WEBHOOK_SECRET;
  const misbehave = (values['webhook-misbehave'] ?? '').split(',').filter((k) => k !== '');
  for (const kind of misbehave) {
    if (!(WEBHOOK_MISBEHAVIOURS as readonly string[]).includes(kind)) throw new Error(`--webhook-misbehave: unknown kind ${kind}\n${USAGE}`);
  }
  if (url !== undefined && !/^https?:\/\//.test(url)) throw new Error(`--webhook-url must be an http(s) URL\n${USAGE}`);
  if (url !== undefined && !secret) throw new Error(`--webhook-url needs --webhook-secret or PAYMENT_WEBHOOK_SECRET\n${USAGE}`);
  if (url === undefined && (values['webhook-secret'] !== undefined || misbehave.length > 0)) throw new Error(`webhook options go with --webhook-url\n${USAGE}`);
  const settleAfter = int('--settle-after', values['settle-after'], 0, 3_600_000);
  return {
    port,
    fault: faults[0],
    webhooks: url !== undefined && secret ? { url, secret, misbehave: misbehave as WebhookMisbehaviour[] } : undefined,
    settlePendingAfterMs: settleAfter ?? (url !== undefined ? 3000 : undefined),
  };
};

const describeFault = (f: SandboxFaultStep): string => {
  const what = f.kind === 'latency' ? `${f.ms} ms latency`
    : f.kind === 'status' ? `status ${f.status}${f.retryAfterSeconds !== undefined ? ` (Retry-After ${f.retryAfterSeconds})` : ''}`
      : f.kind === 'drop' ? (f.afterProcessing ? 'charge, then drop the connection' : 'drop the connection')
        : `charge, then answer after ${f.ms} ms`;
  return `${what} for ${f.times === Infinity || f.times === undefined ? 'every request' : `the next ${f.times} request(s)`}`;
};

/** What an event is about, for the printed line. */
const subjectOf = ({ data }: PaymentEvent): string =>
  data.refundId !== undefined ? `refund ${data.refundId}` : `deposit ${data.depositId ?? '?'}`;

const main = async (): Promise<void> => {
  const { port, fault, webhooks, settlePendingAfterMs } = faultFromArgs(process.argv.slice(2));
  const sender = webhooks && startWebhookSender({
    url: webhooks.url,
    secret: webhooks.secret,
    onAttempt: ({ event, attempts }, { status, misbehaviour }) =>
      console.log(`webhook ${event.id} ${event.type} ${subjectOf(event)}: attempt ${attempts.length} → ${status || 'no answer'}${misbehaviour ? ` (${misbehaviour})` : ''}`),
  });
  sender?.misbehave(...(webhooks?.misbehave ?? []));
  const gateway = await startSandboxGateway({
    apiKey: process.env.PAYMENT_API_KEY ?? 'sandbox-key',
    port,
    ...(settlePendingAfterMs !== undefined && { settlePendingAfterMs }),
    ...sender?.hooks,
  });
  if (fault) gateway.setFault(fault);
  // The key is never printed: only where it came from.
  console.log(`sandbox payment gateway on ${gateway.url} (key from ${process.env.PAYMENT_API_KEY ? 'PAYMENT_API_KEY' : "the default 'sandbox-key'"})`);
  console.log('tokens: tok_ok (succeeded), tok_pending (pending until polled once), tok_declined (declined)');
  console.log('refund tokens: tok_refund_pending (its refunds pending until polled once), tok_refund_declined (its refunds declined)');
  console.log(`faults: ${fault ? describeFault(fault) : 'none (see --help)'}`);
  // The secret is never printed either.
  console.log(webhooks
    ? `webhooks: to ${webhooks.url}, pending payments and refunds settle after ${settlePendingAfterMs} ms${webhooks.misbehave.length ? `; first events misbehave: ${webhooks.misbehave.join(', ')}` : ''}`
    : 'webhooks: none (see --help)');
  const stop = (): void => {
    sender?.close();
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
