import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWalletE2E } from './wallet-e2e';

// The embedded default of `npm start`, with its data in a fresh directory.
describeWalletE2E('pglite', { env: { DATA_DIR: mkdtempSync(join(tmpdir(), 'wallet-e2e-pglite-')) } });
