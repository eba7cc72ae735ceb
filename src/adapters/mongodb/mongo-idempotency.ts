// Idempotency records. A claim first inserts a fresh record: the deterministic _id
// (and the unique {callerId, key} index) lets exactly one concurrent insert win; the
// losers read the existing record, decide with decideClaim, and write with a
// single-document update conditional on the record being still as read. A new or
// taken-over claim stores the request's token, and every later write for the key
// (link, outcome, release) matches the record only while it is in flight with that
// token: a request whose lease ran out and was taken over can write nothing more.
import type { ClientSession, Filter, UpdateFilter } from 'mongodb';
import { IdempotencyKeyInUse, ServiceUnavailable } from '../../core/errors';
import { decideClaim } from '../../core/idempotency-decision';
import type { ClaimTimes, IdempotencyClaim, IdempotencyOutcome, IdempotencyScope, Ledger } from '../../core/ports';
import type { MongoCollections } from './mongo-collections';
import {
  fromOutcomeDoc, heldIdempotencyFilter, newClaimDoc, toDate, toOutcomeDoc, type IdempotencyDoc,
} from './mongo-documents';
import { guarded, translateMongoError } from './mongo-errors';

/** Rounds of insert → read → decide → conditional write before giving up (each needs a concurrent change to repeat). */
const MAX_CLAIM_ROUNDS = 5;

/**
 * Matches a record only as it was read. Every change a decision depends on moves one of
 * these: a claim or take-over sets a new token and a later lease, a release or an outcome
 * changes the state, a revival a later expiry. (Records stored before tokens have none.)
 */
const asRead = (r: IdempotencyDoc): Filter<IdempotencyDoc> => ({
  _id: r._id,
  state: r.state,
  leaseUntil: r.leaseUntil,
  expiresAt: r.expiresAt,
  ...(r.token !== undefined && { token: r.token }),
});

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
    // The key has a record: decide on it as read, then write only if it is still as read.
    const r = await c.idempotency.findOne({ _id: fresh._id });
    if (!r) return undefined; // removed (TTL index) since the insert: go round again
    const decision = decideClaim(
      {
        fingerprint: r.fingerprint, state: r.state, leaseUntil: r.leaseUntil.getTime(), expiresAt: r.expiresAt.getTime(),
        transactionId: r.transactionId ?? null, outcome: r.outcome ? fromOutcomeDoc(r.outcome) : null,
      },
      scope.fingerprint,
      toDate(times.now).getTime(),
    );
    switch (decision.kind) {
      case 'replay':
      case 'in_use':
      case 'mismatch':
        return decision;
      case 'new': {
        // An expired record counts as absent, whatever request it was for.
        const { _id: _ignored, ...replacement } = fresh;
        const revived = await c.idempotency.findOneAndUpdate(asRead(r), { $set: replacement, $unset: { transactionId: '', outcome: '' } });
        return revived ? { kind: 'claimed' } : undefined; // changed meanwhile: go round again
      }
      case 'take_over': {
        // Same request, released after a 5xx or its lease ran out (the request died). The
        // linked transaction is taken from the record as updated, in case it was linked since the read.
        const taken = await c.idempotency.findOneAndUpdate(
          asRead(r),
          { $set: { state: 'in_flight', token: fresh.token, leaseUntil: fresh.leaseUntil } },
          { returnDocument: 'before' },
        );
        if (!taken) return undefined; // changed meanwhile: go round again
        return { kind: 'claimed', ...(taken.transactionId != null && { transactionId: taken.transactionId }) };
      }
    }
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
