import type { Storage } from '../storage';
import { makeMemoryLedger } from './memory-ledger';
import { makeMemoryOutbox } from './memory-outbox';
import { sharedMemoryState } from './memory-state';
import { makeMemoryUserStore } from './memory-user-store';

/** The in-process store shared by every function of one process (not durable). */
export const openMemoryStorage = (options: { events?: boolean } = {}): Storage => {
  const state = sharedMemoryState();
  return {
    kind: 'memory',
    ledger: makeMemoryLedger(state, options),
    ...(options.events && { outbox: makeMemoryOutbox(state) }),
    users: makeMemoryUserStore(state),
    health: { ping: async () => undefined },
    close: async () => undefined,
  };
};
