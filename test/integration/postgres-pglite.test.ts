// PGlite, the durable embedded default: same adapter, data on disk under DATA_DIR.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPgliteStorage } from '../../src/adapters/postgres';
import { uuidv7 } from '../../src/adapters/system/system-clock';
import { parseConfig, type Config } from '../../src/config';
import type { Transaction } from '../../src/core/transaction';

const dirs: string[] = [];
const configFor = (dataDir: string): Config =>
  parseConfig({ AUTH_JWT_SECRET: 'test-secret-at-least-16-chars', STORAGE: 'pglite', DATA_DIR: dataDir });
const freshDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'wallet-pglite-'));
  dirs.push(d);
  return join(d, 'nested', 'data');
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const deposit = (userId: string, amount: number): Transaction => {
  const at = new Date().toISOString();
  return { id: uuidv7(), type: 'deposit', status: 'pending', userId, amount, currency: 'EUR', metadata: { src: 'test' }, createdAt: at, updatedAt: at };
};

describe('pglite storage', () => {
  it('keeps users, balances and transactions across close and reopen of the same directory', async () => {
    const dataDir = freshDir();
    const first = await openPgliteStorage(configFor(dataDir).pglite);
    expect(existsSync(join(dataDir, 'pglite'))).toBe(true);
    await first.users.create({ id: 'ada', email: 'ada@example.com', name: 'Ada', createdAt: '2030-01-01T00:00:00.123Z' });
    const d = await first.ledger.createDeposit(deposit('ada', 9_007_199_254_740_000));
    const settled = await first.ledger.settle({ id: d.id, status: 'completed', now: '2030-01-01T00:00:01.456Z' });
    await first.close();

    const second = await openPgliteStorage(configFor(dataDir).pglite);
    try {
      await expect(second.health.ping()).resolves.toBeUndefined();
      expect(await second.users.get('ada')).toEqual({ id: 'ada', email: 'ada@example.com', name: 'Ada', createdAt: '2030-01-01T00:00:00.123Z' });
      expect(await second.ledger.getTransaction(d.id)).toEqual(settled);
      // Beyond 2^53 - 2^10 a float would already have rounded this.
      expect(await second.ledger.getBalances('ada')).toEqual([{ currency: 'EUR', available: 9_007_199_254_740_000, held: 0 }]);
    } finally {
      await second.close();
    }
  });

  it('shares one instance per directory within a process, and keeps it open until the last holder closes', async () => {
    const dataDir = freshDir();
    const a = await openPgliteStorage(configFor(dataDir).pglite);
    const b = await openPgliteStorage(configFor(dataDir).pglite);
    const shared = (globalThis as Record<symbol, Map<string, unknown>>)[Symbol.for('wallet-service.pglite')];
    expect(shared?.has(join(dataDir, 'pglite'))).toBe(true);
    await a.users.create({ id: 'bob', email: 'bob@example.com', name: 'Bob', createdAt: new Date().toISOString() });
    expect((await b.users.get('bob'))?.name).toBe('Bob');
    await a.close();
    // b still works after a closed.
    await expect(b.users.get('bob')).resolves.not.toBeNull();
    await b.close();
    expect(shared?.has(join(dataDir, 'pglite'))).toBe(false);
  });
});
