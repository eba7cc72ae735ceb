import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPgliteStorage } from '../../src/adapters/postgres';
import { runMigrations } from '../../src/adapters/postgres/migrate';
import { openPgliteExecutor } from '../../src/adapters/postgres/pglite-executor';
import { parseConfig } from '../../src/config';
import { describeLedgerContract } from './ledger-contract';
import { describeOutboxContract } from './outbox-contract';
import { describeSqlOutboxCases } from './sql-outbox-cases';

/** A storage in a fresh data directory, opened with events on (EVENT_BUS_NAME set). */
const openWithEvents = async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'wallet-pglite-outbox-'));
  const config = parseConfig({ AUTH_JWT_SECRET: 'test-secret-at-least-16-chars', STORAGE: 'pglite', DATA_DIR: dataDir, EVENT_BUS_NAME: 'wallet-test' });
  const storage = await openPgliteStorage(config.pglite);
  const close = async (): Promise<void> => {
    await storage.close();
    rmSync(dataDir, { recursive: true, force: true });
  };
  return { storage, close };
};

describeOutboxContract('pglite', async () => {
  const { storage, close } = await openWithEvents();
  if (!storage.outbox) throw new Error('EVENT_BUS_NAME is set: the storage must have an outbox');
  return { ledger: storage.ledger, users: storage.users, outbox: storage.outbox, close };
});

describeLedgerContract('pglite, events on', async () => {
  const { storage, close } = await openWithEvents();
  return { ledger: storage.ledger, users: storage.users, close };
});

describeSqlOutboxCases('pglite', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'wallet-pglite-outbox-'));
  const db = openPgliteExecutor(join(dataDir, 'pglite'));
  await runMigrations(db);
  return {
    db,
    close: async () => {
      await db.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
});
