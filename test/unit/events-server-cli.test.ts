// `npm run events:local` takes its port and failure share from its own variables, and
// prints one line per event.
import { formatOutcome, settingsFromEnv } from '../support/events-server-cli';

describe('local EventBridge command line', () => {
  it('listens on EVENTS_PORT, by default on neither npm start nor the sandbox gateway port', () => {
    expect(settingsFromEnv({ PORT: '3000' })).toEqual({ port: 4020, failRate: 0, failCode: 'InternalFailure' });
    expect(settingsFromEnv({ EVENTS_PORT: '4999', EVENTS_FAIL_RATE: '0.2', EVENTS_FAIL_CODE: 'ThrottlingException' }))
      .toEqual({ port: 4999, failRate: 0.2, failCode: 'ThrottlingException' });
  });

  it('refuses a bad port, rate or code', () => {
    expect(() => settingsFromEnv({ EVENTS_PORT: 'x' })).toThrow(/EVENTS_PORT/);
    expect(() => settingsFromEnv({ EVENTS_FAIL_RATE: '1.5' })).toThrow(/EVENTS_FAIL_RATE/);
    expect(() => settingsFromEnv({ EVENTS_FAIL_CODE: 'rm -rf' })).toThrow(/EVENTS_FAIL_CODE/);
  });

  it('prints type, resource id and version, and marks a failed entry', () => {
    const detail = { id: 'e1', type: 'hold.captured', version: 2, data: { id: 'hold-7' } };
    const delivered = { eventId: 'x', busName: 'b', source: 'wallet', detailType: 'hold.captured', detail, call: 1 };
    expect(formatOutcome({ delivered })).toBe('hold.captured         hold-7 v2');
    expect(formatOutcome({ failed: { code: 'InternalFailure', detail } })).toMatch(/^hold.captured\s+hold-7 v2\s+FAILED InternalFailure/);
  });
});
