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

  it('refuses two faults at once, unknown flags and bad numbers', () => {
    expect(() => faultFromArgs(['--drop', '--latency', '5'])).toThrow(/at most one fault/);
    expect(() => faultFromArgs(['--status', '200'])).toThrow(/--status must be an integer from 400 to 599/);
    expect(() => faultFromArgs(['--explode'])).toThrow();
  });
});
