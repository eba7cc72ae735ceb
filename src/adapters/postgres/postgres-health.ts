import { ServiceUnavailable } from '../../core/errors';
import type { HealthCheck } from '../../core/ports';
import type { SqlExecutor } from './sql-executor';

/** Rejects while the database is unreachable; the same executor recovers on its own once it is back. */
export const makePostgresHealthCheck = (db: SqlExecutor): HealthCheck => ({
  async ping() {
    try {
      await db.query('SELECT 1', [], { idempotent: true });
    } catch (err) {
      throw err instanceof ServiceUnavailable ? err : new ServiceUnavailable();
    }
  },
});
