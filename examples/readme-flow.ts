// The README's curl session with the typed client: two users, a deposit, a transfer,
// both sides read back, then a pending deposit settled by an admin.
//   npm start            (in another terminal)
//   npm run example      (API_URL to point elsewhere; tokens signed with AUTH_JWT_SECRET
//                         or the local development secret that `npm start` uses)
import { SignJWT } from 'jose';
import devDefaults from '../scripts/dev-defaults.json';
import { unwrap, walletClient, type Transaction, type User } from './wallet-client';

const token = (secret: Uint8Array, sub: string, admin = false): Promise<string> =>
  new SignJWT(admin ? { scope: 'admin' } : {})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(secret);

const money = (t: Transaction): string => `${t.type} ${t.amount} ${t.currency} ${t.status}`;

export const readmeFlow = async (
  baseUrl = process.env.API_URL ?? `http://localhost:${process.env.PORT ?? 3000}`,
  jwtSecret = process.env.AUTH_JWT_SECRET || devDefaults.devJwtSecret,
  log: (...line: string[]) => void = console.log,
): Promise<{ alice: User; bob: User; pending: Transaction; settled: Transaction }> => {
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
  log('alice balances:', aliceNow.balances.map((b) => `${b.available} ${b.currency}`).join(', '));
  const history = unwrap(await bob.GET('/users/{id}/transactions', { params: { path: { id: bobId }, query: { limit: 20 } } }));
  log('bob history:', history.data.map(money).join('; '), history.nextCursor === null ? '(last page)' : '(more)');

  const pending = unwrap(await alice.POST('/users/{id}/deposits', {
    params: { path: { id: aliceId }, header: { 'Idempotency-Key': `dep-pending-${run}` } },
    body: { amount: 500, currency: 'USD', paymentToken: 'tok_pending' },
  }));
  log('pending deposit:', pending.id, money(pending));
  const settled = unwrap(await admin.PATCH('/transactions/{id}', { params: { path: { id: pending.id } }, body: { status: 'completed' } }));
  log('settled by admin:', money(settled));

  const bobNow = unwrap(await bob.GET('/users/{id}', { params: { path: { id: bobId } } }));
  return { alice: unwrap(await alice.GET('/users/{id}', { params: { path: { id: aliceId } } })), bob: bobNow, pending, settled };
};

if (require.main === module) {
  readmeFlow().then(
    ({ alice }) => console.log('alice finally:', alice.balances.map((b) => `${b.available} ${b.currency}`).join(', ')),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}
