// The README flow through the typed client generated from openapi.json (examples/),
// over HTTP against serverless-offline: the client and the server agree.
import { readmeFlow } from '../../examples/readme-flow';
import { startOffline, type OfflineServer } from '../support/offline';

const SECRET = 'e2e-secret-at-least-32-characters-long';
let server: OfflineServer | undefined;

beforeAll(async () => {
  server = await startOffline({ STORAGE: 'memory', AUTH_JWT_SECRET: SECRET, LOG_LEVEL: 'ERROR' });
}, 90_000);
afterAll(async () => {
  await server?.stop();
});

it('runs the README flows (money, then holds and refunds) with typed requests and responses', async () => {
  const { alice, bob, pending, settled, hold, capture, refund, voided } = await readmeFlow(server?.url, SECRET, () => undefined);
  expect(alice.balances).toEqual([{ currency: 'USD', available: 1050 - 300 + 500 - 250 + 100, held: 0 }]);
  expect(bob.balances).toEqual([{ currency: 'USD', available: 300 + 250 - 100, held: 0 }]);
  expect(pending.status).toBe('pending');
  expect(settled).toMatchObject({ id: pending.id, status: 'completed' });
  expect(hold).toMatchObject({ amount: 400, status: 'held', toUserId: bob.id });
  expect(capture).toMatchObject({ type: 'transfer', amount: 250, holdId: hold.id, status: 'completed' });
  expect(refund).toMatchObject({ type: 'refund', amount: 100, refundOf: capture.id, userId: bob.id, toUserId: alice.id });
  expect(voided.status).toBe('voided');
});
