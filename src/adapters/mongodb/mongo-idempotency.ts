// Idempotency records. A claim first inserts a fresh record: the deterministic _id
// (and the unique {callerId, key} index) lets exactly one concurrent insert win; the
// losers inspect the existing record with single-document atomic updates. A new or
// taken-over claim stores the request's token, and every later write for the key
// (link, outcome, release) matches the record only while it is in flight with that
// token: a request whose lease ran out and was taken over can write nothing more.
import type { ClientSession, UpdateFilter } from 'mongodb';
import { IdempotencyKeyInUse, ServiceUnavailable } from '../../core/errors';
import type { ClaimTimes, IdempotencyClaim, IdempotencyOutcome, IdempotencyScope, Ledger } from '../../core/ports';
import type { MongoCollections } from './mongo-collections';
import {
  fromOutcomeDoc, heldIdempotencyFilter, newClaimDoc, toDate, toOutcomeDoc, type IdempotencyDoc,
} from './mongo-documents';
import { guarded, translateMongoError } from './mongo-errors';

/** Rounds of insert → take over → inspect before giving up (each needs a concurrent change to repeat). */
const MAX_CLAIM_ROUNDS = 5;

export type IdempotencyMethods = Pick<Ledger, 'claimIdempotency' | 'completeIdempotency' | 'releaseIdempotency'>;

/** The update that records `outcome` as the key's final one. */
export const outcomeUpdate = (outcome: IdempotencyOutcome): UpdateFilter<IdempotencyDoc> => ({
  $set: { state: 'done', outcome: toOutcomeDoc(outcome) },
});

/**
 * Throws IdempotencyKeyInUse unless `scope`'s record is in flight with `scope.token`;
 * with `update`, applies it to the record in the same single-document step. Called as
 * the FIRST step of a transaction, before any effect: a refusal thrown here aborts the
 * transaction (withTransaction neither retries nor commits on a non-driver error), so
 * nothing is written. With an update, the record is also write-locked from then on: a
 * take-over racing the transaction either committed before its snapshot (refused here),
 * or conflicts with it and finds the record as the transaction left it.
 */
export const holdIdempotency = async (
  c: MongoCollections,
  scope: IdempotencyScope | undefined,
  session: ClientSession,
  update?: UpdateFilter<IdempotencyDoc>,
): Promise<void> => {
  if (!scope) return;
  const held = update
    ? (await c.idempotency.updateOne(heldIdempotencyFilter(scope), update, { session })).matchedCount > 0
    : (await c.idempotency.findOne(heldIdempotencyFilter(scope), { session, projection: { _id: 1 } })) !== null;
  if (!held) throw new IdempotencyKeyInUse();
};

/**
 * Records the final outcome for `scope` while this request still holds the key
 * (inside the caller's transaction when a session is given); otherwise throws
 * IdempotencyKeyInUse, having written nothing (the caller's transaction aborts).
 */
export const finishIdempotency = async (
  c: MongoCollections,
  scope: IdempotencyScope | undefined,
  outcome: IdempotencyOutcome,
  session?: ClientSession,
): Promise<void> => {
  if (!scope) return;
  const r = await c.idempotency.updateOne(heldIdempotencyFilter(scope), outcomeUpdate(outcome), session ? { session } : {});
  if (r.matchedCount === 0) throw new IdempotencyKeyInUse();
};

export const makeMongoIdempotency = (c: MongoCollections): IdempotencyMethods => {
  const claimOnce = async (scope: IdempotencyScope, times: ClaimTimes): Promise<IdempotencyClaim | undefined> => {
    const fresh = newClaimDoc(scope, times);
    try {
      await c.idempotency.insertOne(fresh);
      return { kind: 'claimed' };
    } catch (err) {
      const t = translateMongoError(err, 'idempotency');
      if (t.kind === 'throw') throw t.error;
    }
    const _id = fresh._id;
    const now = toDate(times.now);

    // An expired record counts as absent, whatever request it was for.
    const { _id: _ignored, ...replacement } = fresh;
    const revived = await c.idempotency.findOneAndUpdate(
      { _id, expiresAt: { $lte: now } },
      { $set: replacement, $unset: { transactionId: '', outcome: '' } },
    );
    if (revived) return { kind: 'claimed' };

    // Same request, released after a 5xx or its lease ran out (the request died): take it over.
    const taken = await c.idempotency.findOneAndUpdate(
      {
        _id,
        fingerprint: scope.fingerprint,
        expiresAt: { $gt: now },
        $or: [{ state: 'open' }, { state: 'in_flight', leaseUntil: { $lte: now } }],
      },
      { $set: { state: 'in_flight', token: fresh.token, leaseUntil: fresh.leaseUntil } },
      { returnDocument: 'before' },
    );
    if (taken) return { kind: 'claimed', ...(taken.transactionId != null && { transactionId: taken.transactionId }) };

    const r = await c.idempotency.findOne({ _id });
    if (!r || r.expiresAt <= now) return undefined; // removed or expired meanwhile: go round again
    if (r.fingerprint !== scope.fingerprint) return { kind: 'mismatch' };
    if (r.state === 'done' && r.outcome) return { kind: 'replay', outcome: fromOutcomeDoc(r.outcome) };
    if (r.state === 'in_flight' && r.leaseUntil > now) return { kind: 'in_use' };
    return undefined; // released or lapsed since the take-over attempt: go round again
  };

  return {
    claimIdempotency: (scope, times) =>
      guarded('idempotency', async () => {
        for (let round = 0; round < MAX_CLAIM_ROUNDS; round++) {
          const claim = await claimOnce(scope, times);
          if (claim) return claim;
        }
        throw new ServiceUnavailable('The idempotency record keeps changing, try again shortly', 1);
      }),
    // One conditional single-document update: atomic on its own, and it writes nothing unless the key is held.
    completeIdempotency: (scope, outcome) => guarded('idempotency', () => finishIdempotency(c, scope, outcome)),
    // Frees only this request's own claim: after a take-over, the new holder's claim stays.
    releaseIdempotency: (scope) =>
      guarded('idempotency', async () => {
        await c.idempotency.updateOne(heldIdempotencyFilter(scope), { $set: { state: 'open' } });
      }),
  };
};
