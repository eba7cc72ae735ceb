import { makeMemoryLedger } from '../../src/adapters/memory/memory-ledger';
import { makeMemoryUserStore } from '../../src/adapters/memory/memory-user-store';
import { createMemoryState } from '../../src/adapters/memory/memory-state';
import { describeLedgerContract } from './ledger-contract';

describeLedgerContract('memory', async () => {
  const state = createMemoryState();
  return { ledger: makeMemoryLedger(state), users: makeMemoryUserStore(state) };
});
