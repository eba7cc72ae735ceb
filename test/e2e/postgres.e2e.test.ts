import { ensureDatabase } from '../support/postgres';
import { describeWalletE2E } from './wallet-e2e';

const database = 'wallet_e2e';
describeWalletE2E('postgres', {
  env: { POSTGRES_DB: database, POSTGRES_SYNC: 'true' },
  prepare: () => ensureDatabase(database),
});
