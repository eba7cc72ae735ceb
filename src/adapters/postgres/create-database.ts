// `npm run migrate` and POSTGRES_SYNC=true start from nothing: when the configured
// database does not exist, create it through the server's maintenance database
// `postgres`, if the role may (CREATEDB). Deployed stages usually get their database
// from infrastructure; then this finds it and does nothing.
import { Client } from 'pg';
import { poolConfig, type PostgresOptions } from './pg-executor';
import { isMissingDatabase, sqlState } from './pg-errors';

const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** Creates the configured database when it is missing. True when this call created it. */
export const ensureDatabaseExists = async (options: PostgresOptions): Promise<boolean> => {
  const { query_timeout: _q, allowExitOnIdle: _a, ...base } = poolConfig(options);
  const probe = new Client(base);
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return false;
  } catch (err) {
    if (!isMissingDatabase(err)) throw err;
  } finally {
    await probe.end().catch(() => undefined);
  }
  const admin = new Client({ ...base, database: 'postgres' });
  admin.on('error', () => undefined);
  try {
    await admin.connect();
    await admin.query(`CREATE DATABASE ${quoteIdent(options.database)}`);
    return true;
  } catch (err) {
    // 42P04 duplicate_database, or 23505 when two creators race on the catalog.
    const code = sqlState(err);
    if (code === '42P04' || code === '23505') return false;
    throw new Error(
      `database "${options.database}" does not exist and could not be created (${err instanceof Error ? err.message : String(err)}); create it, or grant CREATEDB`,
      { cause: err },
    );
  } finally {
    await admin.end().catch(() => undefined);
  }
};
