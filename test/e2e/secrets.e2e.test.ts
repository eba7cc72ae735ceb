// The local stack with its JWT secret supplied only through (a local) Secrets Manager:
// APP_SECRET_ID set, AUTH_JWT_SECRET absent from the environment.
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { startFakeSecretsManager, type FakeSecretsManager } from '../support/fake-secrets-manager';
import { startOffline, type OfflineServer } from '../support/offline';

const SECRET_ID = 'wallet/e2e/app';
const JWT_SECRET = `from-secrets-manager-${randomUUID()}`;
const sign = (secret: string, sub: string) =>
  new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setExpirationTime('5m').sign(new TextEncoder().encode(secret));

(process.env.API_URL ? describe.skip : describe)('e2e: settings from the app secret', () => {
  let secrets: FakeSecretsManager;
  let server: OfflineServer;

  beforeAll(async () => {
    secrets = await startFakeSecretsManager();
    secrets.setSecret(SECRET_ID, JSON.stringify({ AUTH_JWT_SECRET: JWT_SECRET }));
    server = await startOffline({ ...secrets.sdkEnv(), STORAGE: 'memory', APP_SECRET_ID: SECRET_ID, AUTH_JWT_SECRET: '', LOG_LEVEL: 'ERROR' });
  }, 90_000);
  afterAll(async () => {
    await server?.stop();
    await secrets?.close();
  });

  it('accepts tokens signed with the secret from Secrets Manager and nothing else', async () => {
    const id = `e2e-${randomUUID()}`;
    const create = (token: string) => fetch(`${server.url}/users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ email: `${id}@example.com`, name: 'Secret' }),
    });
    expect((await create(await sign('some-other-secret-0123456789', id))).status).toBe(401);
    expect((await create(await sign(JWT_SECRET, id))).status).toBe(201);
    expect(secrets.calls(SECRET_ID)).toBeGreaterThanOrEqual(1);
  });
});
