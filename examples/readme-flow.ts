// The README's curl sessions with the typed client: two users, a deposit, a transfer,
// both sides read back, then a pending deposit settled by an admin; then a hold for
// Bob, partly captured by him, part of the capture refunded, and a second hold voided.
//   npm start            (in another terminal)
//   npm run example      (API_URL to point elsewhere; tokens signed with AUTH_JWT_SECRET
//                         or the local development secret that `npm start` uses)
import { SignJWT } from 'jose';
import devDefaults from '../scripts/dev-defaults.json';
import { unwrap, walletClient, type Hold, type Transaction, type User } from './wallet-client';

const token = (secret: Uint8Array, sub: string, admin = false): Promise<string> =>
  new SignJWT(admin ? { scope: 'admin' } : {})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(secret);

const money = (t: Transaction): string => `${t.type} ${t.amount} ${t.currency} ${t.status}`;
const balances = (u: User): string => u.balances.map((b) => `${b.available} ${b.currency} (${b.held} held)`).join(', ');

export const readmeFlow = async (
  baseUrl = process.env.API_URL ?? `http://localhost:${process.env.PORT ?? 3000}`,
  jwtSecret = process.env.AUTH_JWT_SECRET || devDefaults.devJwtSecret,
  log: (...line: string[]) => void = console.log,
): Promise<{
  alice: User; bob: User; pending: Transaction; settled: Transaction; hold: Hold; capture: Transaction; refund: Transaction; voided: Hold;
}> => {
  const secret = new TextEncoder().encode(jwtSecret);
  // Fresh ids per run, so the flow can be repeated against the same storage.
  const run = Date.now().toString(36);
  const [aliceId, bobId] = [`alice-${run}`, `bob-${run}`];
  const alice = walletClient(baseUrl, await token(secret, aliceId));
  const bob = walletClient(baseUrl, await token(secret, bobId));
  const admin = walletClient(baseUrl, await token(secret, 'ops', true));

  unwrap(await alice.POST('/users', { body: { email: `${aliceId}@example.com`, name: 'Alice' } }));
  unwrap(await bob.POST('/users', { body: { email: `${bobId}@example.com`, name: 'Bob' } }));

  const deposit = unwrap(await alice.POST('/users/{id}/deposits', {
    params: { path: { id: aliceId }, header: { 'Idempotency-Key': `dep-${run}` } },
    body: { amount: 1050, currency: 'USD', paymentToken: 'tok_ok' },
  }));
  log('deposit:', money(deposit));

  const transfer = unwrap(await alice.POST('/transfers', {
    params: { header: { 'Idempotency-Key': `tr-${run}` } },
    body: { toUserId: bobId, amount: 300, currency: 'USD' },
  }));
  log('transfer:', money(transfer));

  const aliceNow = unwrap(await alice.GET('/users/{id}', { params: { path: { id: aliceId } } }));
  log('alice balances:', balances(aliceNow));
  const history = unwrap(await bob.GET('/users/{id}/transactions', { params: { path: { id: bobId }, query: { limit: 20 } } }));
  log('bob history:', history.data.map(money).join('; '), history.nextCursor === null ? '(last page)' : '(more)');

  const pending = unwrap(await alice.POST('/users/{id}/deposits', {
    params: { path: { id: aliceId }, header: { 'Idempotency-Key': `dep-pending-${run}` } },
    body: { amount: 500, currency: 'USD', paymentToken: 'tok_pending' },
  }));
  log('pending deposit:', pending.id, money(pending));
  const settled = unwrap(await admin.PATCH('/transactions/{id}', { params: { path: { id: pending.id } }, body: { status: 'completed' } }));
  log('settled by admin:', money(settled));

  // Holds and refunds: 4.00 USD set aside for Bob, who captures 2.50 of it and refunds 1.00.
  const hold = unwrap(await alice.POST('/users/{id}/holds', {
    params: { path: { id: aliceId }, header: { 'Idempotency-Key': `hold-${run}` } },
    body: { amount: 400, currency: 'USD', toUserId: bobId, expiresInSeconds: 600 },
  }));
  log('hold:', hold.id, `${hold.amount} ${hold.currency} ${hold.status} until ${hold.expiresAt}`);
  log('alice balances:', balances(unwrap(await alice.GET('/users/{id}', { params: { path: { id: aliceId } } }))));
  const capture = unwrap(await bob.POST('/holds/{id}/capture', {
    params: { path: { id: hold.id }, header: { 'Idempotency-Key': `cap-${run}` } },
    body: { amount: 250 },
  }));
  log('capture:', money(capture));
  const refund = unwrap(await bob.POST('/transactions/{id}/refunds', {
    params: { path: { id: capture.id }, header: { 'Idempotency-Key': `ref-${run}` } },
    body: { amount: 100 },
  }));
  log('refund:', money(refund));
  const spare = unwrap(await alice.POST('/users/{id}/holds', {
    params: { path: { id: aliceId }, header: { 'Idempotency-Key': `hold-spare-${run}` } },
    body: { amount: 50, currency: 'USD' },
  }));
  const voided = unwrap(await alice.POST('/holds/{id}/void', { params: { path: { id: spare.id }, header: { 'Idempotency-Key': `void-${run}` } } }));
  log('voided:', voided.id, voided.status);

  const bobNow = unwrap(await bob.GET('/users/{id}', { params: { path: { id: bobId } } }));
  const aliceNow2 = unwrap(await alice.GET('/users/{id}', { params: { path: { id: aliceId } } }));
  return { alice: aliceNow2, bob: bobNow, pending, settled, hold, capture, refund, voided };
};

if (require.main === module) {
  readmeFlow().then(
    ({ alice }) => console.log('alice finally:', balances(alice)),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}
