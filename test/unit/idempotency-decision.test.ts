// decideClaim on its own, over the same table of cases every Ledger adapter runs
// (test/contract/idempotency-claim-cases.ts), plus what only the pure function shows.
import { decideClaim, type ClaimDecision, type ClaimRecord } from '../../src/core/idempotency-decision';
import {
  CLAIM_AT, CLAIM_CASES, caseName, DONE_OUTCOME, FINGERPRINT, LEASE_MS, OTHER_FINGERPRINT, T0, TTL_MS, type ClaimCase,
} from '../contract/idempotency-claim-cases';

const LINKED = 'tx-linked-earlier';

/** The record the port would hold for `c` (see describeClaimCases). */
const recordOf = (c: ClaimCase): ClaimRecord | null =>
  c.record && {
    fingerprint: FINGERPRINT,
    state: c.record.state,
    leaseUntil: T0 + LEASE_MS,
    expiresAt: T0 + TTL_MS,
    transactionId: c.record.linked ? LINKED : null,
    outcome: c.record.state === 'done' ? DONE_OUTCOME : null,
  };

const expectedDecision = (c: ClaimCase): ClaimDecision => {
  switch (c.expected) {
    case 'replay':
      return { kind: 'replay', outcome: DONE_OUTCOME };
    case 'take_over':
      return c.record?.linked ? { kind: 'take_over', transactionId: LINKED } : { kind: 'take_over' };
    default:
      return { kind: c.expected };
  }
};

describe('decideClaim: the shared claim cases', () => {
  it.each(CLAIM_CASES.map((c) => [caseName(c), c] as const))('%s', (_name, c) => {
    const fingerprint = c.request === 'same' ? FINGERPRINT : OTHER_FINGERPRINT;
    expect(decideClaim(recordOf(c), fingerprint, T0 + CLAIM_AT[c.at])).toEqual(expectedDecision(c));
  });
});

describe('decideClaim', () => {
  const live: ClaimRecord = { fingerprint: 'fp', state: 'in_flight', leaseUntil: 2_000, expiresAt: 10_000 };

  it('treats a missing record (null or undefined) as new', () => {
    expect(decideClaim(null, 'fp', 0)).toEqual({ kind: 'new' });
    expect(decideClaim(undefined, 'fp', 0)).toEqual({ kind: 'new' });
  });

  it('never links to a new claim what an expired record held', () => {
    expect(decideClaim({ ...live, state: 'open', transactionId: 'tx-1' }, 'fp', 10_000)).toEqual({ kind: 'new' });
  });

  it('takes over a record marked done that holds no outcome, rather than replaying nothing', () => {
    expect(decideClaim({ ...live, state: 'done', outcome: null }, 'fp', 2_000)).toEqual({ kind: 'take_over' });
  });

  it('compares the fingerprint before anything else of a live record', () => {
    for (const state of ['in_flight', 'open', 'done'] as const) {
      expect(decideClaim({ ...live, state, outcome: DONE_OUTCOME }, 'other', 1_000)).toEqual({ kind: 'mismatch' });
    }
  });

  it('is pure: the same inputs give the same decision and the record is left as it was', () => {
    const record: ClaimRecord = { ...live, state: 'open', transactionId: 'tx-1' };
    const before = structuredClone(record);
    expect(decideClaim(record, 'fp', 1_000)).toEqual(decideClaim(record, 'fp', 1_000));
    expect(record).toEqual(before);
  });
});
