import { makeMemoryLedger } from '../../src/adapters/memory/memory-ledger';
import { makeMemoryOutbox } from '../../src/adapters/memory/memory-outbox';
import { makeMemoryUserStore } from '../../src/adapters/memory/memory-user-store';
import { createMemoryState } from '../../src/adapters/memory/memory-state';
import { describeOutboxContract } from './outbox-contract';

describeOutboxContract('memory', async () => {
  const state = createMemoryState();
  return { ledger: makeMemoryLedger(state, { events: true }), users: makeMemoryUserStore(state), outbox: makeMemoryOutbox(state) };
});
