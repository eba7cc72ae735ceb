// Imported first by the handler-level integration suites: the memory store, the
// test HS256 secret, quiet logs, and none of the optional settings a developer's
// shell might carry (JWKS, issuer, gateway URL, app secret, lower MAX_AMOUNT …).
import { TEST_JWT_SECRET } from './tokens';

process.env.STORAGE = 'memory';
process.env.AUTH_JWT_SECRET = TEST_JWT_SECRET;
process.env.LOG_LEVEL = 'SILENT';
for (const name of ['AUTH_JWKS_URL', 'AUTH_ISSUER', 'AUTH_AUDIENCE', 'PAYMENT_API_URL', 'MAX_AMOUNT', 'APP_SECRET_ID', 'CURSOR_SECRET']) {
  delete process.env[name];
}
