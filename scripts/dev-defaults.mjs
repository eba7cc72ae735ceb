// Local-only defaults shared by `npm start`, `npm run token` and the tests.
// Never used by a deployed stage: there AUTH_JWT_SECRET / AUTH_JWKS_URL must be set.
export const DEV_JWT_SECRET = 'local-dev-secret-do-not-use-in-production';
