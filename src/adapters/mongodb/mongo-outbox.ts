// The relay's side of the outbox on MongoDB. Claiming is a find of unclaimed (or
// lease-expired) events, oldest first, then one updateMany that sets this relay's
// lease and token only on those still unclaimed — each document's filter and write are
// one atomic step, so of racing relays exactly one takes each event — then a read of
// what carries this relay's token. No transaction is needed: an event is only ever
// claimed, re-claimed after its lease, or deleted by its claimant.
//
// "Oldest first" is (occurredAt, _id): occurredAt is the `now` of the change's step,
// which across processes is not the commit order, and _id (a random UUID) only breaks
// ties. That is enough: delivery is at-least-once and unordered on the bus anyway,
// consumers order one resource's events by `version`, and an event is never passed
// over (every unclaimed one is a candidate, the oldest first). A counter document
// giving a strict sequence would be written by every ledger transaction, so all of
// them would conflict with one another.
import type { Filter } from 'mongodb';
import type { Outbox } from '../../core/ports';
import type { MongoCollections } from './mongo-collections';
import { fromDate, toDate } from './mongo-documents';
import { guarded } from './mongo-errors';
import { fromOutboxDoc, type OutboxDoc } from './mongo-outbox-documents';

/** The claim order, served by the outbox's {occurredAt: 1, _id: 1} index. */
const OLDEST_FIRST = { occurredAt: 1, _id: 1 } as const;

/** Rounds of find → claim: another round is needed only when a racing relay took some of the candidates. */
const MAX_CLAIM_ROUNDS = 10;

const byAge = (a: OutboxDoc, b: OutboxDoc): number =>
  a.occurredAt.getTime() - b.occurredAt.getTime() || (a._id < b._id ? -1 : a._id > b._id ? 1 : 0);

export const makeMongoOutbox = (c: MongoCollections): Outbox => ({
  claimEvents: ({ limit, now, leaseUntil, token }) =>
    guarded('ledger', async () => {
      // limit(0) would mean "no limit" to the server: a batch is bounded, always.
      if (limit < 1) return [];
      const unclaimed: Filter<OutboxDoc> = { $or: [{ leaseUntil: null }, { leaseUntil: { $lte: toDate(now) } }] };
      const claimed = new Map<string, OutboxDoc>();
      for (let round = 0; round < MAX_CLAIM_ROUNDS && claimed.size < limit; round++) {
        const candidates = await c.outbox
          .find(unclaimed, { projection: { _id: 1 } })
          .sort(OLDEST_FIRST)
          .limit(limit - claimed.size)
          .toArray();
        if (candidates.length === 0) break;
        const ids = candidates.map((d) => d._id);
        await c.outbox.updateMany({ _id: { $in: ids }, ...unclaimed }, { $set: { leaseUntil: toDate(leaseUntil), token } });
        for (const doc of await c.outbox.find({ _id: { $in: ids }, token }).toArray()) claimed.set(doc._id, doc);
      }
      return [...claimed.values()].sort(byAge).map(fromOutboxDoc);
    }),

  ackEvents: (ids, token) =>
    guarded('ledger', async () => {
      if (ids.length === 0) return;
      // Only while still claimed with this token: after a lease ran out and another relay claimed the event, it is theirs.
      await c.outbox.deleteMany({ _id: { $in: ids }, token });
    }),

  backlog: () =>
    guarded('ledger', async () => {
      const [count, oldest] = await Promise.all([
        c.outbox.countDocuments({}),
        c.outbox.find({}, { projection: { occurredAt: 1 } }).sort(OLDEST_FIRST).limit(1).toArray(),
      ]);
      const at = oldest[0]?.occurredAt;
      return { count, ...(at && { oldestAt: fromDate(at) }) };
    }),
});
