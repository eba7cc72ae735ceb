import { ensureDatabase, pgServerEnv } from '../support/postgres';
import { describeWalletE2E } from './wallet-e2e';

const database = 'wallet_e2e';
describeWalletE2E('postgres', {
  env: { ...pgServerEnv(), POSTGRES_DB: database, POSTGRES_SYNC: 'true' },
  prepare: () => ensureDatabase(database),
});
