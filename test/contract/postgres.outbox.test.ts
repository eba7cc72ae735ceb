import { randomUUID } from 'node:crypto';
import { openPostgresStorage } from '../../src/adapters/postgres';
import { runMigrations } from '../../src/adapters/postgres/migrate';
import { openPgExecutor } from '../../src/adapters/postgres/pg-executor';
import { dropDatabase, ensureDatabase, pgTestConfig } from '../support/postgres';
import { describeLedgerContract } from './ledger-contract';
import { describeOutboxContract } from './outbox-contract';
import { describeSqlOutboxCases } from './sql-outbox-cases';

// Databases of their own per run (releaseExpiredHolds works on every payer at once;
// a relay drains every event), dropped afterwards.
const database = (): string => `wallet_pg_outbox_${randomUUID().replace(/-/g, '').slice(0, 12)}`;

/** A storage opened with events on (EVENT_BUS_NAME set), migrating at open as POSTGRES_SYNC does. */
const openWithEvents = async () => {
  const name = database();
  await ensureDatabase(name);
  const storage = await openPostgresStorage(pgTestConfig(name, { EVENT_BUS_NAME: 'wallet-test' }).postgres);
  const close = async (): Promise<void> => {
    await storage.close();
    await dropDatabase(name).catch(() => undefined);
  };
  return { storage, close };
};

describeOutboxContract('postgres', async () => {
  const { storage, close } = await openWithEvents();
  if (!storage.outbox) throw new Error('EVENT_BUS_NAME is set: the storage must have an outbox');
  return { ledger: storage.ledger, users: storage.users, outbox: storage.outbox, close };
});

describeLedgerContract('postgres, events on', async () => {
  const { storage, close } = await openWithEvents();
  return { ledger: storage.ledger, users: storage.users, close };
});

describeSqlOutboxCases('postgres', async () => {
  const name = database();
  await ensureDatabase(name);
  const db = openPgExecutor(pgTestConfig(name).postgres);
  await runMigrations(db);
  return {
    db,
    close: async () => {
      await db.close();
      await dropDatabase(name).catch(() => undefined);
    },
  };
});
