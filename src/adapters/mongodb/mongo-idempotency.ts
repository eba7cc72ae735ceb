// Idempotency records. A claim first inserts a fresh record: the deterministic _id
// (and the unique {callerId, key} index) lets exactly one concurrent insert win; the
// losers inspect the existing record with single-document atomic updates.
import type { ClientSession } from 'mongodb';
import { ServiceUnavailable } from '../../core/errors';
import type { ClaimTimes, IdempotencyClaim, IdempotencyOutcome, IdempotencyScope, Ledger } from '../../core/ports';
import type { MongoCollections } from './mongo-collections';
import { fromOutcomeDoc, idempotencyId, newClaimDoc, toDate, toOutcomeDoc } from './mongo-documents';
import { guarded, translateMongoError } from './mongo-errors';

/** Rounds of insert → take over → inspect before giving up (each needs a concurrent change to repeat). */
const MAX_CLAIM_ROUNDS = 5;

export type IdempotencyMethods = Pick<Ledger, 'claimIdempotency' | 'completeIdempotency' | 'releaseIdempotency'>;

/** Records the final outcome for `scope` (inside the caller's transaction when a session is given). */
export const finishIdempotency = async (
  c: MongoCollections,
  scope: IdempotencyScope | undefined,
  outcome: IdempotencyOutcome,
  session?: ClientSession,
): Promise<void> => {
  if (!scope) return;
  await c.idempotency.updateOne(
    { _id: idempotencyId(scope), fingerprint: scope.fingerprint },
    { $set: { state: 'done', outcome: toOutcomeDoc(outcome) } },
    session ? { session } : {},
  );
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
      { $set: { state: 'in_flight', leaseUntil: fresh.leaseUntil } },
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
    completeIdempotency: (scope, outcome) => guarded('idempotency', () => finishIdempotency(c, scope, outcome)),
    releaseIdempotency: (scope) =>
      guarded('idempotency', async () => {
        await c.idempotency.updateOne({ _id: idempotencyId(scope), state: 'in_flight' }, { $set: { state: 'open' } });
      }),
  };
};
