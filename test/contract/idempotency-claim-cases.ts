// One table of idempotency claim cases — the key's record × when the claim comes ×
// which request makes it → what the claim finds — run twice: against decideClaim itself
// (test/unit/idempotency-decision.test.ts) and against every Ledger adapter's
// claimIdempotency (from the shared storage contract), with the record made through the
// port itself. The adapters (and the Redis Lua script) must decide exactly as the pure
// function does.
import { randomUUID } from 'node:crypto';
import type { ClaimTimes, IdempotencyClaim, IdempotencyOutcome, IdempotencyScope, Ledger, UserStore } from '../../src/core/ports';
import { uuidv7 } from '../../src/adapters/system/system-clock';

/** When the record was made, with this lease and this time to live. */
export const T0 = Date.parse('2032-01-01T00:00:00.000Z');
export const LEASE_MS = 60_000;
export const TTL_MS = 3_600_000;

/** When the claim comes, in ms after T0. */
export const CLAIM_AT = {
  leaseLive: 1_000,
  leaseEnd: LEASE_MS,
  leaseOver: LEASE_MS + 1,
  expiry: TTL_MS,
  expired: TTL_MS + 1,
} as const;

/** The fingerprint of the request that made the record; 'other' claims use another one. */
export const FINGERPRINT = 'fp-claim-case';
export const OTHER_FINGERPRINT = 'fp-another-request';
/** The outcome a 'done' record holds. */
export const DONE_OUTCOME: IdempotencyOutcome = { kind: 'error', error: { code: 'insufficient_funds', message: 'Insufficient funds', param: 'amount' } };

export interface ClaimCase {
  /**
   * The key's record: none, or one claimed at T0 and then left in flight, released
   * ('open') or completed with DONE_OUTCOME ('done'); `linked`: a deposit was linked to it
   * while it was held.
   */
  record: null | { state: 'in_flight' | 'open' | 'done'; linked: boolean };
  request: 'same' | 'other';
  at: keyof typeof CLAIM_AT;
  /** take_over carries the linked transaction exactly when the record had one; new never does. */
  expected: 'new' | 'replay' | 'in_use' | 'take_over' | 'mismatch';
}

const rec = (state: 'in_flight' | 'open' | 'done', linked = false): ClaimCase['record'] => ({ state, linked });

export const CLAIM_CASES: readonly ClaimCase[] = [
  { record: null, request: 'same', at: 'leaseLive', expected: 'new' },

  // In flight: in use while the lease lives; a lease ending now has ended.
  { record: rec('in_flight'), request: 'same', at: 'leaseLive', expected: 'in_use' },
  { record: rec('in_flight', true), request: 'same', at: 'leaseLive', expected: 'in_use' },
  { record: rec('in_flight'), request: 'other', at: 'leaseLive', expected: 'mismatch' },
  { record: rec('in_flight'), request: 'same', at: 'leaseEnd', expected: 'take_over' },
  { record: rec('in_flight'), request: 'same', at: 'leaseOver', expected: 'take_over' },
  { record: rec('in_flight', true), request: 'same', at: 'leaseOver', expected: 'take_over' },
  { record: rec('in_flight'), request: 'other', at: 'leaseOver', expected: 'mismatch' },
  { record: rec('in_flight'), request: 'same', at: 'expiry', expected: 'new' },
  { record: rec('in_flight', true), request: 'other', at: 'expired', expected: 'new' },

  // Released (after a 5xx): the same request takes it over at once, keeping the link.
  { record: rec('open'), request: 'same', at: 'leaseLive', expected: 'take_over' },
  { record: rec('open', true), request: 'same', at: 'leaseLive', expected: 'take_over' },
  { record: rec('open'), request: 'other', at: 'leaseLive', expected: 'mismatch' },
  { record: rec('open', true), request: 'same', at: 'expiry', expected: 'new' },
  { record: rec('open'), request: 'other', at: 'expired', expected: 'new' },

  // Done: replayed until it expires, lease or not; never to another request.
  { record: rec('done'), request: 'same', at: 'leaseLive', expected: 'replay' },
  { record: rec('done'), request: 'same', at: 'leaseOver', expected: 'replay' },
  { record: rec('done', true), request: 'same', at: 'leaseOver', expected: 'replay' },
  { record: rec('done'), request: 'other', at: 'leaseLive', expected: 'mismatch' },
  { record: rec('done'), request: 'other', at: 'leaseOver', expected: 'mismatch' },
  { record: rec('done'), request: 'same', at: 'expiry', expected: 'new' },
  { record: rec('done', true), request: 'other', at: 'expired', expected: 'new' },
];

export const caseName = (c: ClaimCase): string =>
  `${c.record ? `${c.record.state}${c.record.linked ? ' (linked)' : ''}` : 'no record'}, ${c.request} request, at ${c.at} → ${c.expected}`;

const iso = (ms: number): string => new Date(ms).toISOString();
export const claimTimesAt = (ms: number): ClaimTimes => ({ now: iso(ms), leaseUntil: iso(ms + LEASE_MS), expiresAt: iso(ms + TTL_MS) });

/** What claimIdempotency must answer for `c`, `linkedId` being the deposit linked to the record. */
const expectedClaim = (c: ClaimCase, linkedId: string | undefined): IdempotencyClaim => {
  switch (c.expected) {
    case 'new':
      return { kind: 'claimed' };
    case 'take_over':
      return linkedId ? { kind: 'claimed', transactionId: linkedId } : { kind: 'claimed' };
    case 'replay':
      return { kind: 'replay', outcome: DONE_OUTCOME };
    case 'in_use':
    case 'mismatch':
      return { kind: c.expected };
  }
};

/** Runs every case against `fixture().ledger`, making each record through the port with controlled times. */
export const describeClaimCases = (fixture: () => { ledger: Ledger; users: UserStore }): void => {
  describe('idempotency claim decision (the shared cases)', () => {
    it.each(CLAIM_CASES.map((c) => [caseName(c), c] as const))('%s', async (_name, c) => {
      const { ledger, users } = fixture();
      const userId = `user-${randomUUID()}`;
      await users.create({ id: userId, email: `${userId}@example.com`, name: 'Claim case', createdAt: iso(T0) });
      const first: IdempotencyScope = { callerId: userId, key: `claim-case-${randomUUID()}`, fingerprint: FINGERPRINT, token: randomUUID() };

      let linkedId: string | undefined;
      if (c.record) {
        expect(await ledger.claimIdempotency(first, claimTimesAt(T0))).toEqual({ kind: 'claimed' });
        if (c.record.linked) {
          const d = await ledger.createDeposit(
            { id: uuidv7(), type: 'deposit', status: 'pending', userId, amount: 100, currency: 'USD', metadata: {}, createdAt: iso(T0), updatedAt: iso(T0) },
            first,
          );
          linkedId = d.id;
        }
        if (c.record.state === 'open') await ledger.releaseIdempotency(first);
        if (c.record.state === 'done') await ledger.completeIdempotency(first, DONE_OUTCOME);
      }

      const now = T0 + CLAIM_AT[c.at];
      const second: IdempotencyScope = { ...first, token: randomUUID(), fingerprint: c.request === 'same' ? FINGERPRINT : OTHER_FINGERPRINT };
      const claim = await ledger.claimIdempotency(second, claimTimesAt(now));
      expect(claim).toEqual(expectedClaim(c, linkedId));

      if (claim.kind === 'claimed') {
        // The claim now holds the key with its own token (so its release frees it), and a
        // new claim forgot the earlier attempt's link: the next claim resumes what this one left.
        await ledger.releaseIdempotency(second);
        const third = { ...second, token: randomUUID() };
        expect(await ledger.claimIdempotency(third, claimTimesAt(now))).toEqual(expectedClaim({ ...c, expected: 'take_over' }, c.expected === 'new' ? undefined : linkedId));
      }
    });
  });
};
