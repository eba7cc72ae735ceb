// `npm run events:local`: a local EventBridge (the fake) that prints each event as it
// arrives, so `npm start` can publish to "EventBridge" without AWS.
// Env: EVENTS_PORT (default 4020; not PORT, which is `npm start`'s, nor 4010, the sandbox
// gateway's), EVENTS_FAIL_RATE (0–1: the share of entries answered with an error, which
// the app resends), EVENTS_FAIL_CODE (default InternalFailure).
import { startFakeEventBridge, type EntryOutcome } from './fake-eventbridge';

export const DEFAULT_EVENTS_PORT = 4020;

export interface EventsCliSettings {
  port: number;
  failRate: number;
  failCode: string;
}

export const settingsFromEnv = (env: NodeJS.ProcessEnv): EventsCliSettings => {
  const port = Number(env.EVENTS_PORT ?? DEFAULT_EVENTS_PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('EVENTS_PORT must be a port number');
  const failRate = Number(env.EVENTS_FAIL_RATE ?? 0);
  if (!Number.isFinite(failRate) || failRate < 0 || failRate > 1) throw new Error('EVENTS_FAIL_RATE must be a number from 0 to 1');
  const failCode = env.EVENTS_FAIL_CODE ?? 'InternalFailure';
  if (!/^[A-Za-z]+$/.test(failCode)) throw new Error('EVENTS_FAIL_CODE must be an error code such as InternalFailure');
  return { port, failRate, failCode };
};

const text = (v: unknown): string => (typeof v === 'string' || typeof v === 'number' ? String(v) : '?');

/** One line per entry: type, resource id, version (and the error, for a failed one). */
export const formatOutcome = (outcome: EntryOutcome): string => {
  const detail = 'delivered' in outcome ? outcome.delivered.detail : outcome.failed.detail;
  const data = detail?.data;
  const resourceId = typeof data === 'object' && data !== null ? (data as Record<string, unknown>).id : undefined;
  const line = `${text(detail?.type).padEnd(21)} ${text(resourceId)} v${text(detail?.version)}`;
  return 'delivered' in outcome ? line : `${line}  FAILED ${outcome.failed.code} (the app resends it)`;
};

const main = async (): Promise<void> => {
  const settings = settingsFromEnv(process.env);
  const fake = await startFakeEventBridge({ port: settings.port, onEntry: (o) => console.log(formatOutcome(o)) });
  if (settings.failRate > 0) fake.failShare(settings.failRate, settings.failCode);
  const env = { ...fake.sdkEnv(), EVENT_BUS_NAME: 'wallet-local' };
  console.log(`Fake EventBridge at ${fake.endpoint}` + (settings.failRate > 0 ? `, failing ${Math.round(settings.failRate * 1000) / 10}% of entries with ${settings.failCode}` : ''));
  console.log('Run the app with:');
  console.log(`  ${Object.entries(env).map(([k, v]) => `${k}=${v}`).join(' ')} npm start`);
  const stop = (): void => {
    const { calls, entriesDelivered, entriesFailed } = fake.stats();
    console.log(`${calls} PutEvents calls, ${entriesDelivered} entries delivered, ${entriesFailed} failed`);
    void fake.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
};

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  });
}
