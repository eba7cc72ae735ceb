// HTTP fuzzing on the embedded PostgreSQL (PGlite), in a fresh data directory.
import '../support/memory-http-env';

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeHttpFuzz } from './http-fuzz-suite';

process.env.STORAGE = 'pglite';
process.env.DATA_DIR = mkdtempSync(join(tmpdir(), 'wallet-http-fuzz-pglite-'));

describeHttpFuzz('PGlite', { runs: 40 });
