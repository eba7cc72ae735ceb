// The shape of what production sees: one structured JSON log line per request and
// CloudWatch EMF metric lines (Requests by route and outcome, InsufficientFunds,
// IdempotentReplays, ColdStart, AmountMoved by type and currency).
// Before any import: Powertools reads these when its instances are built.
process.env.POWERTOOLS_METRICS_DISABLED = 'false';
import '../support/memory-http-env';

import { resetApp } from '../../src/composition-root';
import { call, expectOk, fund, newUser, type HttpResponse } from '../support/invoke';

process.env.LOG_LEVEL = 'INFO';

let lines: string[] = [];
const spies: jest.SpyInstance[] = [];

beforeAll(() => {
  for (const stream of [process.stdout, process.stderr]) {
    spies.push(jest.spyOn(stream, 'write').mockImplementation(((chunk: unknown, ...rest: unknown[]) => {
      lines.push(...String(chunk instanceof Uint8Array ? Buffer.from(chunk).toString('utf8') : chunk).split('\n').filter(Boolean));
      (rest.find((r) => typeof r === 'function') as (() => void) | undefined)?.();
      return true;
    }) as typeof stream.write));
  }
});
afterAll(async () => {
  for (const s of spies) s.mockRestore();
  await resetApp();
});
beforeEach(() => {
  lines = [];
});

type Json = Record<string, unknown>;
const json = (): Json[] => lines.flatMap((l) => {
  try {
    return [JSON.parse(l) as Json];
  } catch {
    return [];
  }
});
const requestLog = (res: HttpResponse): Json | undefined => json().find((j) => j.message === 'request' && j.requestId === res.awsRequestId);
interface Emf { _aws: { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string; Unit: string }> }> } }
const metricLines = (): Array<Json & Emf> => json().filter((j): j is Json & Emf => typeof j._aws === 'object');
const metric = (name: string, dims: Json = {}): Array<Json & Emf> =>
  metricLines().filter((m) => m._aws.CloudWatchMetrics.some((d) => d.Metrics.some((x) => x.Name === name)) && Object.entries(dims).every(([k, v]) => m[k] === v));

describe('observability', () => {
  it('logs one structured line per request with request id, route, caller and outcome', async () => {
    const u = await newUser();
    const res = expectOk(await call('getUser', { id: u.id, token: u.token }), 200) as unknown;
    expect(res).toBeTruthy();
    const lastCall = await call('getUser', { id: u.id, token: u.token });
    const log = requestLog(lastCall);
    expect(log).toMatchObject({ level: 'INFO', message: 'request', service: 'wallet-service', route: 'GET /users/{id}', callerId: u.id, status: 200 });
    expect(typeof log?.timestamp).toBe('string');
    const denied = await call('getUser', { id: u.id });
    expect(requestLog(denied)).toMatchObject({ route: 'GET /users/{id}', status: 401, code: 'unauthenticated' });
  });

  it('the scheduled job logs what it reconciled and purged (the use cases report it, not the function)', async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { handler } = require('../../functions/reconcile-deposits') as typeof import('../../functions/reconcile-deposits');
    await handler();
    expect(json().find((j) => j.message === 'reconciled deposits')).toMatchObject({ level: 'INFO', service: 'wallet-service' });
    expect(json().find((j) => j.message === 'purged expired idempotency keys')).toMatchObject({ level: 'INFO', purged: expect.any(Number) });
    expect(json().find((j) => j.message === 'released expired holds')).toMatchObject({ level: 'INFO', released: expect.any(Number) });
  });

  it('counts captures and refunds as money moved, replays not', async () => {
    const [a, b] = [await newUser(), await newUser()];
    await fund(a, 300, 'EUR');
    const hold = expectOk(await call('createHold', { id: a.id, token: a.token, body: { amount: 300, currency: 'EUR', toUserId: b.id } }), 201) as { id: string };
    lines = [];
    const captured = expectOk(await call('captureHold', { id: hold.id, token: b.token, body: { amount: 120 }, headers: { 'Idempotency-Key': 'obs-cap' } }), 201) as { id: string };
    expect(metric('AmountMoved', { type: 'transfer', currency: 'EUR' }).map((m) => m.AmountMoved)).toEqual([120]);
    lines = [];
    expectOk(await call('createRefund', { id: captured.id, token: b.token, body: { amount: 20 } }), 201);
    expect(metric('AmountMoved', { type: 'refund', currency: 'EUR' }).map((m) => m.AmountMoved)).toEqual([20]);
    lines = [];
    await call('captureHold', { id: hold.id, token: b.token, body: { amount: 120 }, headers: { 'Idempotency-Key': 'obs-cap' } });
    expect(metric('AmountMoved')).toHaveLength(0);
  });

  it('emits EMF metrics for requests, amounts moved, refusals and replays, each line with its dimensions', async () => {
    const [a, b] = [await newUser(), await newUser()];
    await fund(a, 1000);
    lines = [];
    const transfer = await call('createTransfer', { token: a.token, body: { toUserId: b.id, amount: 250, currency: 'USD' }, headers: { 'Idempotency-Key': 'obs-1' } });
    expect(transfer.status).toBe(201);
    const requests = metric('Requests', { route: 'POST /transfers', outcome: 'ok' });
    expect(requests).toHaveLength(1);
    expect(requests[0]?._aws.CloudWatchMetrics[0]).toMatchObject({ Namespace: 'WalletService', Dimensions: [['service', 'route', 'outcome']] });
    expect(requests[0]?.Requests).toBe(1);
    expect(metric('AmountMoved', { type: 'transfer', currency: 'USD' })[0]?.AmountMoved).toBe(250);

    lines = [];
    await call('createTransfer', { token: a.token, body: { toUserId: b.id, amount: 250, currency: 'USD' }, headers: { 'Idempotency-Key': 'obs-1' } });
    expect(metric('IdempotentReplays', { route: 'POST /transfers' })).toHaveLength(1);
    expect(metric('AmountMoved')).toHaveLength(0);

    lines = [];
    const refused = await call('createWithdrawal', { id: a.id, token: a.token, body: { amount: 10_000, currency: 'USD' } });
    expect(refused.status).toBe(422);
    expect(metric('InsufficientFunds', { route: 'POST /users/{id}/withdrawals', outcome: 'insufficient_funds' })).toHaveLength(1);
    expect(metric('Requests', { route: 'POST /users/{id}/withdrawals', outcome: 'insufficient_funds' })).toHaveLength(1);
  });

  it('reuses one single-metric instance: no new Metrics (and Console) per line, and no dimension leaks between lines', async () => {
    const { metrics } = await import('../../src/observability/metrics');
    const built = jest.spyOn(metrics, 'singleMetric');
    try {
      const [a, b] = [await newUser(), await newUser()];
      await fund(a, 1000);
      lines = [];
      for (const amount of [1, 2, 3]) {
        expect((await call('createTransfer', { token: a.token, body: { toUserId: b.id, amount, currency: 'USD' } })).status).toBe(201);
      }
      expect(built).not.toHaveBeenCalled();
      expect(metric('AmountMoved', { type: 'transfer', currency: 'USD' }).map((m) => m.AmountMoved)).toEqual([1, 2, 3]);
      for (const m of metric('Requests', { route: 'POST /transfers' })) expect(m).not.toHaveProperty('type');
    } finally {
      built.mockRestore();
    }
  });
});
