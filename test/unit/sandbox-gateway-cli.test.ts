// `npm run sandbox:gateway` takes its faults from flags and its port from its own variable,
// so it can run beside `npm start` (which reads PORT).
import { faultFromArgs } from '../support/sandbox-gateway-cli';

describe('sandbox gateway command line', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('listens on SANDBOX_GATEWAY_PORT or --port, never on PORT', () => {
    process.env.PORT = '3000';
    delete process.env.SANDBOX_GATEWAY_PORT;
    expect(faultFromArgs([]).port).toBe(4010);
    process.env.SANDBOX_GATEWAY_PORT = '4999';
    expect(faultFromArgs([]).port).toBe(4999);
    expect(faultFromArgs(['--port', '4321']).port).toBe(4321);
  });

  it('turns flags into one fault, for every request unless --times says otherwise', () => {
    expect(faultFromArgs([]).fault).toBeUndefined();
    expect(faultFromArgs(['--status', '503', '--retry-after', '2', '--times', '3']).fault).toEqual({ kind: 'status', status: 503, retryAfterSeconds: 2, times: 3 });
    expect(faultFromArgs(['--latency', '6000']).fault).toEqual({ kind: 'latency', ms: 6000, times: Infinity });
    expect(faultFromArgs(['--drop-after-processing']).fault).toEqual({ kind: 'drop', afterProcessing: true, times: Infinity });
    expect(faultFromArgs(['--timeout-after-processing', '8000', '--times', '1']).fault).toEqual({ kind: 'timeout-after-processing', ms: 8000, times: 1 });
  });

  it('sends webhooks only when given a URL, signed with --webhook-secret or PAYMENT_WEBHOOK_SECRET, settling pending payments by itself', () => {
    delete process.env.PAYMENT_WEBHOOK_SECRET;
    expect(faultFromArgs([])).toMatchObject({ webhooks: undefined, settlePendingAfterMs: undefined });
    const url = 'http://localhost:3000/webhooks/payments';
    expect(faultFromArgs(['--webhook-url', url, '--webhook-secret', 'whsec_cli_0123456789'])).toMatchObject({
      webhooks: { url, secret: 'whsec_cli_0123456789', misbehave: [] }, settlePendingAfterMs: 3000,
    });
    process.env.PAYMENT_WEBHOOK_SECRET = 'whsec_env_0123456789';
    expect(faultFromArgs(['--webhook-url', url, '--settle-after', '250', '--webhook-misbehave', 'duplicate,bad-signature'])).toMatchObject({
      webhooks: { url, secret: 'whsec_env_0123456789', misbehave: ['duplicate', 'bad-signature'] }, settlePendingAfterMs: 250,
    });
    expect(faultFromArgs(['--settle-after', '100'])).toMatchObject({ webhooks: undefined, settlePendingAfterMs: 100 });
  });

  it('refuses webhook options that cannot work', () => {
    delete process.env.PAYMENT_WEBHOOK_SECRET;
    const url = 'http://localhost:3000/webhooks/payments';
    expect(() => faultFromArgs(['--webhook-url', url])).toThrow(/needs --webhook-secret or PAYMENT_WEBHOOK_SECRET/);
    expect(() => faultFromArgs(['--webhook-url', 'localhost:3000', '--webhook-secret', 's'])).toThrow(/http\(s\) URL/);
    expect(() => faultFromArgs(['--webhook-url', url, '--webhook-secret', 's', '--webhook-misbehave', 'explode'])).toThrow(/unknown kind explode/);
    expect(() => faultFromArgs(['--webhook-misbehave', 'duplicate'])).toThrow(/go with --webhook-url/);
  });

  it('refuses two faults at once, unknown flags and bad numbers', () => {
    expect(() => faultFromArgs(['--drop', '--latency', '5'])).toThrow(/at most one fault/);
    expect(() => faultFromArgs(['--status', '200'])).toThrow(/--status must be an integer from 400 to 599/);
    expect(() => faultFromArgs(['--explode'])).toThrow();
  });
});
