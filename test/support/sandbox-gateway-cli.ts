// `npm run sandbox:gateway`: the sandbox payment gateway on 127.0.0.1:$PORT (4010),
// accepting `Authorization: Bearer $PAYMENT_API_KEY` ('sandbox-key').
import { startSandboxGateway } from './sandbox-gateway';

const main = async (): Promise<void> => {
  const port = Number(process.env.PORT ?? 4010);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('PORT must be a port number');
  const gateway = await startSandboxGateway({ apiKey: process.env.PAYMENT_API_KEY ?? 'sandbox-key', port });
  // The key is never printed: only where it came from.
  console.log(`sandbox payment gateway on ${gateway.url} (key from ${process.env.PAYMENT_API_KEY ? 'PAYMENT_API_KEY' : "the default 'sandbox-key'"})`);
  console.log('tokens: tok_ok (succeeded), tok_pending (pending until polled once), tok_declined (declined)');
  const stop = (): void => {
    void gateway.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
};

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
