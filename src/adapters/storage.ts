import type { HealthCheck, Ledger, Outbox, UserStore } from '../core/ports';

/** What every storage backend provides to the composition root. */
export interface Storage {
  kind: string;
  ledger: Ledger;
  users: UserStore;
  health: HealthCheck;
  /** Present when the store was opened with events on: the ledger writes every change's event into it. */
  outbox?: Outbox;
  /** Releases connections (used when settings rotate, and by tests). */
  close(): Promise<void>;
}
