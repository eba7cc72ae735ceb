import { randomUUID } from 'node:crypto';
import { openPostgresStorage } from '../../src/adapters/postgres';
import { dropDatabase, ensureDatabase, pgTestConfig } from '../support/postgres';
import { describeLedgerContract } from './ledger-contract';

// A database of its own per run: releaseExpiredHolds works on every payer's holds at
// once, so a run sharing its database with another would release that run's holds.
const DATABASE = `wallet_pg_contract_${randomUUID().replace(/-/g, '').slice(0, 12)}`;

describeLedgerContract('postgres', async () => {
  await ensureDatabase(DATABASE);
  // POSTGRES_SYNC=true: migrates at open, as concurrent cold starts would.
  const storage = await openPostgresStorage(pgTestConfig(DATABASE).postgres);
  return {
    ledger: storage.ledger,
    users: storage.users,
    close: async () => {
      await storage.close();
      await dropDatabase(DATABASE).catch(() => undefined);
    },
  };
});
