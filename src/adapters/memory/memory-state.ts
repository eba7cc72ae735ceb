import type { WalletEvent } from '../../core/events';
import type { Hold } from '../../core/hold';
import type { IdempotencyOutcome } from '../../core/ports';
import type { Transaction } from '../../core/transaction';
import type { UserProfile } from '../../core/user';

export interface IdempotencyRecord {
  fingerprint: string;
  /** The token of the request holding the claim. */
  token: string;
  state: 'in_flight' | 'open' | 'done';
  leaseUntil: string;
  expiresAt: string;
  transactionId?: string;
  outcome?: IdempotencyOutcome;
}

export interface MemoryState {
  users: Map<string, UserProfile>;
  transactions: Map<string, Transaction>;
  /** userId → currency → available */
  balances: Map<string, Map<string, number>>;
  /** userId → ids of transactions in the user's history */
  histories: Map<string, Set<string>>;
  /** userId → currency → the sum of holds still `held` (expired ones until released) */
  held: Map<string, Map<string, number>>;
  holds: Map<string, Hold>;
  /** payer → ids of the holds they pay */
  holdsByPayer: Map<string, Set<string>>;
  /** transaction or hold id → how many changes it has had (the events' `version`) */
  versions: Map<string, number>;
  /** Unpublished events in commit order, with the relay claim on them. */
  outbox: Map<string, { event: WalletEvent; leaseUntil?: string; token?: string }>;
  /** `${callerId}\u0000${key}` → record */
  idempotency: Map<string, IdempotencyRecord>;
}

export const createMemoryState = (): MemoryState => ({
  users: new Map(),
  transactions: new Map(),
  balances: new Map(),
  histories: new Map(),
  held: new Map(),
  holds: new Map(),
  holdsByPayer: new Map(),
  versions: new Map(),
  outbox: new Map(),
  idempotency: new Map(),
});

// Each esbuild bundle carries its own copy of this module; serverless-offline with
// --useInProcess runs them in one process, so the shared store hangs off globalThis.
const SHARED = Symbol.for('wallet-service.memory-state');

export const sharedMemoryState = (): MemoryState => {
  const g = globalThis as { [SHARED]?: MemoryState };
  return (g[SHARED] ??= createMemoryState());
};
