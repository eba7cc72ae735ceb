// Serves one app secret from the fake Secrets Manager, for running the app locally
// against "Secrets Manager" without AWS:
//   SECRET_JSON='{"AUTH_JWT_SECRET":"…"}' node scripts/run-ts.mjs test/support/secrets-server-cli.ts
// Env: SECRETS_PORT (default 4566; not PORT, which is `npm start`'s), SECRET_ID (default
// wallet/local/app), SECRET_JSON (required).
import { startFakeSecretsManager } from './fake-secrets-manager';

const main = async (): Promise<void> => {
  const secretJson = process.env.SECRET_JSON;
  const secretId = process.env.SECRET_ID ?? 'wallet/local/app';
  const port = Number(process.env.SECRETS_PORT ?? 4566);
  if (!secretJson) throw new Error('SECRET_JSON is required: a JSON object of setting names to values');
  try {
    const parsed: unknown = JSON.parse(secretJson);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
  } catch {
    // Not echoing the input: it is a secret.
    throw new Error('SECRET_JSON must be a JSON object of setting names to values');
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('SECRETS_PORT must be a port number');

  const fake = await startFakeSecretsManager({ port });
  fake.setSecret(secretId, secretJson);
  const env = fake.sdkEnv();
  console.log(`Fake Secrets Manager at ${fake.endpoint} serving secret "${secretId}" (keys: ${Object.keys(JSON.parse(secretJson) as object).join(', ')})`);
  console.log('Run the app with:');
  console.log(
    `  APP_SECRET_ID=${secretId} ${Object.entries(env).map(([k, v]) => `${k}=${v}`).join(' ')} npm start`,
  );
  const stop = (): void => {
    void fake.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
};

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
