import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPgliteStorage } from '../../src/adapters/postgres';
import { parseConfig } from '../../src/config';
import { describeLedgerContract } from './ledger-contract';

describeLedgerContract('pglite', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'wallet-pglite-contract-'));
  const storage = await openPgliteStorage(parseConfig({ AUTH_JWT_SECRET: 'test-secret-at-least-16-chars', STORAGE: 'pglite', DATA_DIR: dataDir }).pglite);
  return {
    ledger: storage.ledger,
    users: storage.users,
    close: async () => {
      await storage.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
});
