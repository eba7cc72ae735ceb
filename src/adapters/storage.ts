import type { HealthCheck, Ledger, UserStore } from '../core/ports';

/** What every storage backend provides to the composition root. */
export interface Storage {
  kind: string;
  ledger: Ledger;
  users: UserStore;
  health: HealthCheck;
  /** Releases connections (used when settings rotate, and by tests). */
  close(): Promise<void>;
}
