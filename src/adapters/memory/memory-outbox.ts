import type { Outbox } from '../../core/ports';
import type { MemoryState } from './memory-state';

/** The outbox of the in-process store: events in commit order, each claimable by one relay at a time. */
export const makeMemoryOutbox = (state: MemoryState): Outbox => ({
  async claimEvents({ limit, now, leaseUntil, token }) {
    const claimed = [];
    for (const entry of state.outbox.values()) {
      if (claimed.length >= limit) break;
      if (entry.leaseUntil !== undefined && entry.leaseUntil > now) continue;
      Object.assign(entry, { leaseUntil, token });
      claimed.push(structuredClone(entry.event));
    }
    return claimed;
  },
  async ackEvents(ids, token) {
    for (const id of ids) if (state.outbox.get(id)?.token === token) state.outbox.delete(id);
  },
  async backlog() {
    const oldest = state.outbox.values().next();
    return { count: state.outbox.size, ...(!oldest.done && { oldestAt: oldest.value.event.occurredAt }) };
  },
});
