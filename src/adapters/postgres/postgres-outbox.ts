// The outbox relays read, on PostgreSQL and PGlite: entries the ledger wrote with each
// change, claimed oldest first in bounded batches. Every call is one autocommitted
// statement with no session state, so it runs unchanged behind a transaction-mode pooler.
import type { Outbox } from '../../core/ports';
import { isUuid } from './is-uuid';
import { toEvent, toIso, type OutboxRow } from './postgres-rows';
import { ACK_EVENTS, BACKLOG, CLAIM_EVENTS } from './postgres-events-sql';
import type { SqlExecutor } from './sql-executor';

/** int8 arrives as text (exact); compared as bigints. */
const bySeq = (a: OutboxRow, b: OutboxRow): number => {
  const d = BigInt(a.seq) - BigInt(b.seq);
  return d < 0n ? -1 : d > 0n ? 1 : 0;
};

export const makePostgresOutbox = (db: SqlExecutor): Outbox => ({
  async claimEvents({ limit, now, leaseUntil, token }) {
    // Not sent twice on a lost connection: a second claim would take the next batch
    // while the first stays leased (harmless, but it only delays those events).
    const rows = await db.query<OutboxRow>(CLAIM_EVENTS, [limit, now, leaseUntil, token]);
    // UPDATE … RETURNING keeps no order.
    return rows.sort(bySeq).map(toEvent);
  },

  async ackEvents(ids, token) {
    const valid = ids.filter(isUuid);
    if (valid.length === 0) return;
    await db.query(ACK_EVENTS, [valid.join(','), token], { idempotent: true });
  },

  async backlog() {
    const [r] = await db.query<{ count: string | number; oldest_at: Date | string | null }>(BACKLOG, [], { idempotent: true });
    const count = Number(r?.count ?? 0);
    return { count, ...(r?.oldest_at != null && { oldestAt: toIso(r.oldest_at) }) };
  },
});
