// HTTP fuzzing on PostgreSQL (the shared local server, its own database).
import '../support/memory-http-env';

import { ensureDatabase, PG_HOST, PG_PORT, PG_USER } from '../support/postgres';
import { describeHttpFuzz } from './http-fuzz-suite';

const DATABASE = 'wallet_test_http_fuzz';
Object.assign(process.env, {
  STORAGE: 'postgres',
  POSTGRES_HOST: PG_HOST,
  POSTGRES_PORT: String(PG_PORT),
  POSTGRES_USER: PG_USER,
  POSTGRES_DB: DATABASE,
  POSTGRES_SYNC: 'true',
});
delete process.env.POSTGRES_PASSWORD;

beforeAll(() => ensureDatabase(DATABASE));

describeHttpFuzz('PostgreSQL', { runs: 40 });
