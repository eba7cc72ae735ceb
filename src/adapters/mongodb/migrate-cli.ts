// `npm run migrate` with STORAGE=mongodb: creates collections and indexes, then exits.
// Usage: node scripts/run-ts.mjs src/adapters/mongodb/migrate-cli.ts
import { parseConfig, readEnv } from '../../config';
import { closeSharedMongoClient, sharedMongoClient } from './mongo-client';
import { migrateMongo } from './migrate';

const main = async (): Promise<void> => {
  const env = readEnv();
  // Migrating verifies no token: a placeholder satisfies the auth check of parseConfig.
  const auth = env.AUTH_JWT_SECRET || env.AUTH_JWKS_URL ? {} : { AUTH_JWT_SECRET: 'migrate-cli-verifies-no-token' };
  const config = parseConfig({ ...env, ...auth, STORAGE: 'mongodb' });
  const client = await sharedMongoClient(config.mongodb);
  try {
    for (const line of await migrateMongo(client.db(config.mongodb.database))) console.log(`mongodb: ${line}`);
    console.log(`mongodb: database ${config.mongodb.database} is up to date`);
  } finally {
    await closeSharedMongoClient(config.mongodb);
  }
};

main().catch((err: unknown) => {
  // An operator runs this: show the driver's reason (kept as `cause`) too.
  const cause = err instanceof Error && err.cause instanceof Error ? ` (${err.cause.message})` : '';
  console.error(`mongodb migrate failed: ${err instanceof Error ? err.message : String(err)}${cause}`);
  process.exit(1);
});
