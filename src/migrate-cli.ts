// `npm run migrate`: brings the schema of the configured STORAGE up to date —
// SQL migrations for postgres / pglite, collections and indexes for mongodb.
// Reads the same settings as the API (environment plus the app secret), needs no
// auth settings, creates a missing PostgreSQL database when the role may, and is
// safe to run concurrently.
import { join } from 'node:path';
import { loadSettings } from './composition-root';
import { parseConfig } from './config';

const main = async (): Promise<void> => {
  const config = parseConfig(await loadSettings(), { requireAuth: false });
  switch (config.storage) {
    case 'postgres':
    case 'pglite': {
      const { runMigrations } = await import('./adapters/postgres/migrate');
      const embedded = config.storage === 'pglite';
      const db = embedded
        ? (await import('./adapters/postgres/pglite-executor')).openPgliteExecutor(join(config.dataDir, 'pglite'))
        : (await import('./adapters/postgres/pg-executor')).openPgExecutor(config.postgres);
      const target = embedded ? `pglite:${config.dataDir}` : `${config.postgres.host}:${config.postgres.port}/${config.postgres.database}`;
      // From nothing: the database itself too, when the server allows it.
      if (!embedded && (await (await import('./adapters/postgres/create-database')).ensureDatabaseExists(config.postgres))) {
        console.log(`${target}: created the database`);
      }
      try {
        const { applied, current } = await runMigrations(db);
        console.log(applied.length ? `${target}: applied ${applied.join(', ')}; now at version ${current}` : `${target}: up to date at version ${current}`);
      } finally {
        await db.close();
      }
      return;
    }
    case 'mongodb': {
      const { closeSharedMongoClient, sharedMongoClient } = await import('./adapters/mongodb/mongo-client');
      const { migrateMongo } = await import('./adapters/mongodb/migrate');
      const client = await sharedMongoClient(config.mongodb);
      try {
        for (const line of await migrateMongo(client.db(config.mongodb.database))) console.log(`mongodb: ${line}`);
        console.log(`mongodb: database ${config.mongodb.database} is up to date`);
      } finally {
        await closeSharedMongoClient(config.mongodb);
      }
      return;
    }
    default:
      console.log(`STORAGE=${config.storage}: no schema to migrate`);
  }
};

main().catch((err: unknown) => {
  // An operator runs this: show the driver's reason (kept as `cause`) too.
  const cause = err instanceof Error && err.cause instanceof Error ? ` (${err.cause.message})` : '';
  console.error(`migration failed: ${err instanceof Error ? err.message : String(err)}${cause}`);
  process.exit(1);
});
