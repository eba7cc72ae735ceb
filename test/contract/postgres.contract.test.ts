import { openPostgresStorage } from '../../src/adapters/postgres';
import { ensureDatabase, pgTestConfig } from '../support/postgres';
import { describeLedgerContract } from './ledger-contract';

const DATABASE = 'wallet_pg_test';

describeLedgerContract('postgres', async () => {
  await ensureDatabase(DATABASE);
  // POSTGRES_SYNC=true: migrates at open, as concurrent cold starts would.
  const storage = await openPostgresStorage(pgTestConfig(DATABASE).postgres);
  return { ledger: storage.ledger, users: storage.users, close: () => storage.close() };
});
