// Every migration, in order. They are TypeScript modules exporting SQL so esbuild
// bundles them: no file is read at runtime. Append only; never edit a shipped one.
import * as m0001 from './0001-initial-schema';
import * as m0002 from './0002-idempotency-claim-token';
import * as m0003 from './0003-holds-and-refunds';
import * as m0004 from './0004-outbox';
import * as m0005 from './0005-movement-keys';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [m0001, m0002, m0003, m0004, m0005];
