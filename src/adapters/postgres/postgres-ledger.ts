// Ledger on PostgreSQL (pg Pool or PGlite, through SqlExecutor). Every money
// operation is one SQL transaction at READ COMMITTED: guarded UPDATEs check and
// write in one statement, and the idempotency outcome commits with the movement.
// With events on, the statements that change a transaction or hold also write its
// event to the outbox (LedgerStatements): same statements, same transaction.
import { createHash } from 'node:crypto';
import {
  BalanceOverflow, HoldNotFound, IdempotencyKeyInUse, InsufficientFunds, InvalidRequest, InvalidStateTransition, TransactionNotFound,
} from '../../core/errors';
import { assertCaptureOf, holdAsOf, holdRefusal, type Hold } from '../../core/hold';
import { decideClaim } from '../../core/idempotency-decision';
import { MAX_BALANCE, parseStoredAmount, type Balance } from '../../core/money';
import type {
  ClaimTimes, HistoryQuery, IdempotencyClaim, IdempotencyOutcome, IdempotencyScope, Ledger, SettleInput,
} from '../../core/ports';
import { movementAsCreated, refundRefusal, type Metadata, type Transaction } from '../../core/transaction';
import { profileNotFound } from '../../core/user';
import { isUuid } from './is-uuid';
import { isCheckViolation } from './pg-errors';
import {
  holdParams, linkedTransactionParams, toBalance, toHold, toMetadata, toMs, toOutcome, toTransaction, transactionParams,
  type BalanceRow, type HoldRow, type IdempotencyRow, type KeyedMovementRow, type TransactionRow,
} from './postgres-rows';
import {
  CREDIT, CREDIT_PROFILE, ENSURE_BALANCE, FINISH_IDEMPOTENCY, GET_BALANCES, HOLD_COLUMNS, historyQuery, holdsQuery, keyTaken,
  LINK_IDEMPOTENCY, pendingQuery, REFUSAL_FACTS, TX_COLUMNS, WITH_EVENTS, WITHOUT_EVENTS, type LedgerStatements,
} from './postgres-sql';
import type { Row, SqlExecutor, SqlSession, TransactionOptions } from './sql-executor';

const CLAIM_NEW_KEY = `INSERT INTO idempotency_keys (caller_id, key, fingerprint, state, lease_until, expires_at, claim_token, lock_hash)
  VALUES ($1, $2, $3, 'in_flight', $4::timestamptz, $5::timestamptz, $6, $7::bigint)
  ON CONFLICT (caller_id, key) DO NOTHING RETURNING 1 AS ok`;

const outcomeJson = (tx: Transaction): string =>
  JSON.stringify({ kind: 'transaction', transaction: tx } satisfies IdempotencyOutcome);

/** A balance beyond the exact maximum (balances_available_max, balances_held_max) becomes BalanceOverflow. */
const rethrowOverflow = (err: unknown): never => {
  if (isCheckViolation(err, 'balances_available_max') || isCheckViolation(err, 'balances_held_max')) throw new BalanceOverflow();
  throw err;
};

/** Credits a balance (a settling deposit, a refund) when it can hold the amount; false (nothing written) when it cannot. */
const creditIfFits = async (s: SqlSession, userId: string, currency: string, amount: number): Promise<boolean> =>
  (await s.query(CREDIT, [userId, currency, String(amount)])).length > 0;

/** What moves: `amount` out of `userId`'s balance (into `toUserId`'s when there is one). */
type Movement = Pick<Transaction, 'userId' | 'toUserId' | 'amount' | 'currency'>;

interface Checks {
  /** The movement requires both parties' profiles (refunds do not). */
  profiles: boolean;
  /** `toUserId` is credited (a hold's payee is not, yet). */
  credits: boolean;
}

/**
 * Why a movement's guarded statement matched nothing, in the port's order: the
 * payer's profile, the payee's, the payer's funds, then the recipient's limit. Runs
 * only on a refusal. `debited`: the debit leg already ran in this transaction.
 */
const refusal = async (s: SqlSession, m: Movement, now: string, checks: Checks, debited: boolean): Promise<Error> => {
  const [f] = await s.query<{ sender: boolean; recipient: boolean; sender_available: string | null; recipient_available: string | null }>(
    REFUSAL_FACTS, [m.userId, m.toUserId ?? null, m.currency, now],
  );
  if (checks.profiles && !f?.sender) return profileNotFound();
  if (checks.profiles && m.toUserId !== undefined && !f?.recipient) return profileNotFound('toUserId');
  // Read after this transaction's own debit, when that leg already ran.
  const before = f?.sender_available == null ? 0 : parseStoredAmount(f.sender_available) + (debited ? m.amount : 0);
  if (before < m.amount) return new InsufficientFunds();
  if (checks.credits && m.toUserId !== undefined && f?.recipient_available != null
    && parseStoredAmount(f.recipient_available) > MAX_BALANCE - m.amount) {
    return new BalanceOverflow();
  }
  return new InsufficientFunds();
};

/** One guarded statement of a movement. */
interface Leg {
  sql: string;
  params: unknown[];
}

/**
 * Runs the debit and the credit (if any) in user_id order — the lock order of every
 * step that touches two balances, so no two of them deadlock; a leg that moves no row
 * is the refusal, diagnosed in the port's order. The debit releases the payer's
 * expired holds at `now` first (see releasingDebit), which also puts a user's holds
 * just before their balance in that order.
 */
const runLegs = async (s: SqlSession, m: Movement, now: string, checks: Checks, debit: Leg, credit?: Leg): Promise<void> => {
  const legs = credit === undefined ? [debit] : m.userId < (m.toUserId ?? '') ? [debit, credit] : [credit, debit];
  let debited = false;
  for (const leg of legs) {
    const rows = await s.query(leg.sql, leg.params).catch(rethrowOverflow);
    if (rows.length === 0) throw await refusal(s, m, now, checks, debited);
    debited ||= leg === debit;
  }
};

const debitLeg = (sql: string, m: Movement, now: string): Leg => ({ sql, params: [m.userId, m.currency, String(m.amount), now] });
const creditLeg = (sql: string, userId: string, m: Movement): Leg => ({ sql, params: [userId, m.currency, String(m.amount)] });

/** A write for a key that this request no longer holds: throwing rolls the transaction back. */
const mustHold = (rows: unknown[]): void => {
  if (rows.length === 0) throw new IdempotencyKeyInUse();
};

/**
 * The transaction-level advisory lock of one (caller, key), also kept as
 * idempotency_keys.lock_hash: the first 64 bits of SHA-256 over key, U+0001, caller, as
 * a signed decimal (migration 0005 computes the same in SQL). Claims and fast-path
 * movements of the key take it; a collision only makes two keys wait for each other.
 */
export const keyLock = (scope: Pick<IdempotencyScope, 'callerId' | 'key'>): string =>
  createHash('sha256').update(`${scope.key}\u0001${scope.callerId}`).digest().readBigInt64BE(0).toString();

/** The fast path's transaction holds the key's lock from its BEGIN, and looks for a claim of the key under it. */
const movementOptions = (idem: IdempotencyScope | undefined, claim: ClaimTimes | undefined): TransactionOptions | undefined => {
  if (!idem || !claim) return undefined;
  const lock = keyLock(idem);
  return { lock, probe: keyTaken(lock) };
};

/**
 * Before a fast-path movement's first leg: a key that a claim in idempotency_keys has
 * (or a fast path the caller does not own) goes the regular way — IdempotencyKeyInUse
 * is moveOnce's cue — before anything is written.
 */
const mayMoveWithKey = (tx: Transaction, idem: IdempotencyScope | undefined, claim: ClaimTimes | undefined, probed: Row[] | undefined): void => {
  if (!idem || !claim) return;
  // The row is keyed by its owner, the caller of every withdrawal and transfer; no
  // probe result (an executor that ran none) counts as taken.
  if (idem.callerId !== tx.userId || probed === undefined || probed.length > 0) throw new IdempotencyKeyInUse();
};

/**
 * Stores a completed movement and, for `idem`, its outcome: the last statement before
 * COMMIT. With `claim` (the fast path) the movement's own row carries the key, which
 * is its record: no idempotency_keys row is written.
 */
const store = async (
  s: SqlSession, sql: LedgerStatements, tx: Transaction, idem: IdempotencyScope | undefined, claim: ClaimTimes | undefined,
): Promise<void> => {
  if (idem && claim) {
    // Another movement with the key (the unique index): roll back.
    mustHold(await s.query(sql.INSERT_KEYED_MOVEMENT, [...transactionParams(tx), idem.key, idem.fingerprint]));
  } else if (idem) {
    mustHold(await s.query(sql.INSERT_TRANSACTION_AND_FINISH, [...transactionParams(tx), idem.callerId, idem.key, outcomeJson(tx), idem.token]));
  } else {
    await s.query(sql.INSERT_TRANSACTION, transactionParams(tx));
  }
};

/** Stores a capture or a completed refund and, for `idem`, its outcome: the last statement before COMMIT. */
const storeLinked = async (s: SqlSession, sql: LedgerStatements, tx: Transaction, idem: IdempotencyScope | undefined): Promise<void> => {
  if (idem) {
    mustHold(await s.query(sql.INSERT_LINKED_TRANSACTION_AND_FINISH, [...linkedTransactionParams(tx), idem.callerId, idem.key, outcomeJson(tx), idem.token]));
  } else {
    await s.query(sql.INSERT_LINKED_TRANSACTION, linkedTransactionParams(tx));
  }
};

/** The hold, locked until the end of the transaction; HoldNotFound when there is none. */
const lockHold = async (s: SqlSession, id: string): Promise<Hold> => {
  const [row] = await s.query<HoldRow>(`SELECT ${HOLD_COLUMNS} FROM holds WHERE id = $1::uuid FOR UPDATE`, [id]);
  if (!row) throw new HoldNotFound();
  return toHold(row);
};

/** SETTLE_HOLD on a locked, live hold: BalanceOverflow (roll back) when the payer's available cannot take the rest. */
const settleHold = async (
  s: SqlSession, sql: LedgerStatements, id: string, status: 'captured' | 'voided', captured: number, transactionId: string | null, now: string,
): Promise<Hold> => {
  const [row] = await s.query<HoldRow & { fits: boolean }>(sql.SETTLE_HOLD, [id, status, String(captured), transactionId, now]);
  if (!row) throw new HoldNotFound();
  if (!row.fits) throw new BalanceOverflow();
  return toHold(row);
};

/**
 * A claim of a key that a fast-path movement carries: its replay (the movement as it
 * was created) or a mismatch; undefined when no movement carries it. Such a key does
 * not expire. Run under the key's lock, so a movement that committed is seen.
 */
const movementClaim = async (s: SqlSession, scope: IdempotencyScope, times: ClaimTimes): Promise<IdempotencyClaim | undefined> => {
  const [r] = await s.query<KeyedMovementRow>(
    `SELECT ${TX_COLUMNS}, idempotency_fingerprint, first_metadata FROM transactions WHERE user_id = $1 AND idempotency_key = $2`,
    [scope.callerId, scope.key],
  );
  if (!r) return undefined;
  const tx = toTransaction(r);
  const decision = decideClaim(
    { fingerprint: r.idempotency_fingerprint, state: 'done', leaseUntil: 0, expiresAt: Infinity,
      outcome: { kind: 'transaction', transaction: movementAsCreated(tx, r.first_metadata === null ? tx.metadata : toMetadata(r.first_metadata)) } },
    scope.fingerprint,
    Date.parse(times.now),
  );
  // A done record decides replay or mismatch only.
  return decision.kind === 'replay' || decision.kind === 'mismatch' ? decision : undefined;
};

export interface PostgresLedgerOptions {
  /** Write an event for every change into the outbox (EVENT_BUS_NAME is set). */
  events?: boolean;
}

export const makePostgresLedger = (db: SqlExecutor, options: PostgresLedgerOptions = {}): Ledger => {
  const sql = options.events ? WITH_EVENTS : WITHOUT_EVENTS;
  const finish = async (s: Pick<SqlSession, 'query'>, scope: IdempotencyScope, outcome: IdempotencyOutcome): Promise<void> =>
    mustHold(await s.query(FINISH_IDEMPOTENCY, [scope.callerId, scope.key, JSON.stringify(outcome), scope.token]));

  return {
    claimsWithMovement: true,
    claimIdempotency: async (scope: IdempotencyScope, times: ClaimTimes): Promise<IdempotencyClaim> => {
      // Fast path, one autocommitted call: a new key, under the key's lock (see
      // 0005-movement-keys.ts). Exactly one concurrent claimer inserts; the others, reused
      // keys and keys a movement carries take the transaction below, under the same lock.
      const lock = keyLock(scope);
      const params = [scope.callerId, scope.key, scope.fingerprint, times.leaseUntil, times.expiresAt, scope.token, lock];
      const [fresh] = await db.query<{ claim: string }>(
        'SELECT claim_idempotency_key($1, $2, $3, $4::timestamptz, $5::timestamptz, $6, $7::bigint) AS claim', params,
      );
      if (fresh?.claim === 'claimed') return { kind: 'claimed' };
      return db.transaction(async (s) => {
        const moved = await movementClaim(s, scope, times);
        if (moved) return moved;
        const inserted = await s.query(CLAIM_NEW_KEY, params);
        if (inserted.length > 0) return { kind: 'claimed' };

        const [r] = await s.query<IdempotencyRow>(
          `SELECT fingerprint, state, lease_until, expires_at, transaction_id, outcome
           FROM idempotency_keys WHERE caller_id = $1 AND key = $2 FOR UPDATE`,
          [scope.callerId, scope.key],
        );
        const decision = decideClaim(
          r && {
            fingerprint: r.fingerprint, state: r.state, leaseUntil: toMs(r.lease_until), expiresAt: toMs(r.expires_at),
            transactionId: r.transaction_id, outcome: toOutcome(r),
          },
          scope.fingerprint,
          Date.parse(times.now),
        );
        switch (decision.kind) {
          case 'replay':
          case 'in_use':
          case 'mismatch':
            return decision;
          case 'new':
            // No record, or an expired one (which counts as absent): start over as a brand-new claim.
            await s.query(
              `INSERT INTO idempotency_keys (caller_id, key, fingerprint, state, lease_until, expires_at, claim_token, lock_hash)
               VALUES ($1, $2, $3, 'in_flight', $4::timestamptz, $5::timestamptz, $6, $7::bigint)
               ON CONFLICT (caller_id, key) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, state = 'in_flight',
                 lease_until = EXCLUDED.lease_until, expires_at = EXCLUDED.expires_at, transaction_id = NULL, outcome = NULL,
                 claim_token = EXCLUDED.claim_token`,
              params,
            );
            return { kind: 'claimed' };
          case 'take_over':
            // Released, or its request died with the lease: take it over.
            await s.query(
              `UPDATE idempotency_keys SET state = 'in_flight', lease_until = $3::timestamptz, claim_token = $4 WHERE caller_id = $1 AND key = $2`,
              [scope.callerId, scope.key, times.leaseUntil, scope.token],
            );
            return { kind: 'claimed', ...(decision.transactionId && { transactionId: decision.transactionId }) };
        }
      }, { lock });
    },

    async completeIdempotency(scope, outcome) {
      mustHold(await db.query(FINISH_IDEMPOTENCY, [scope.callerId, scope.key, JSON.stringify(outcome), scope.token]));
    },

    async releaseIdempotency(scope) {
      await db.query(
        `UPDATE idempotency_keys SET state = 'open' WHERE caller_id = $1 AND key = $2 AND state = 'in_flight' AND claim_token = $3`,
        [scope.callerId, scope.key, scope.token],
        { idempotent: true },
      );
    },

    createDeposit: (tx, idem) =>
      db.transaction(async (s) => {
        await s.query(sql.INSERT_TRANSACTION, transactionParams(tx));
        // The user now holds this currency, even before the deposit settles.
        await s.query(ENSURE_BALANCE, [tx.userId, tx.currency]);
        if (idem) {
          mustHold(await s.query(LINK_IDEMPOTENCY, [idem.callerId, idem.key, tx.id, idem.token]));
        }
        return tx;
      }),

    settle: (input: SettleInput, idem) => {
      if (!isUuid(input.id)) return Promise.reject(new TransactionNotFound());
      return db.transaction(async (s) => {
        // Only one of many racing settlements finds the row still pending (the others
        // wait on its row lock, then re-check the WHERE and match nothing).
        const [row] = await s.query<TransactionRow & { event_id?: string | null }>(
          sql.SETTLE_TRANSACTION,
          [input.id, input.status, input.now, input.metadata ? JSON.stringify(input.metadata) : null],
        );
        if (!row) {
          const [current] = await s.query<{ status: string }>('SELECT status FROM transactions WHERE id = $1::uuid', [input.id]);
          if (!current) throw new TransactionNotFound();
          throw new InvalidStateTransition(current.status, input.status);
        }
        const tx = toTransaction(row);
        if (tx.type === 'refund') {
          if (tx.status === 'failed') {
            // A declined deposit refund: the original first (the lock order of refund()), then the owner's credit back.
            await s.query(sql.ADJUST_REFUNDED, [tx.refundOf ?? null, String(-tx.amount), input.now]);
            if (!(await creditIfFits(s, tx.userId, tx.currency, tx.amount))) throw new BalanceOverflow();
          }
          if (idem) await finish(s, idem, { kind: 'transaction', transaction: tx });
          return tx;
        }
        if (tx.status === 'completed' && tx.type === 'deposit' && !(await creditIfFits(s, tx.userId, tx.currency, tx.amount))) {
          // The balance cannot hold it: the deposit fails instead; its outcome is the caller's to record.
          if (idem) {
            mustHold(await s.query(
              `SELECT 1 AS held FROM idempotency_keys
               WHERE caller_id = $1 AND key = $2 AND state = 'in_flight' AND claim_token = $3 FOR UPDATE`,
              [idem.callerId, idem.key, idem.token],
            ));
          }
          const [failed] = await s.query<TransactionRow>(sql.FAIL_DEPOSIT, options.events ? [input.id, row.event_id] : [input.id]);
          if (!failed) throw new TransactionNotFound();
          return toTransaction(failed);
        }
        if (idem) await finish(s, idem, { kind: 'transaction', transaction: tx });
        return tx;
      });
    },

    withdraw: (tx, idem, claim) =>
      db.transaction(async (s, probed) => {
        mayMoveWithKey(tx, idem, claim, probed);
        await runLegs(s, tx, tx.createdAt, { profiles: true, credits: false }, debitLeg(sql.DEBIT_PROFILE, tx, tx.createdAt));
        await store(s, sql, tx, idem, claim);
        return tx;
      }, movementOptions(idem, claim)),

    transfer: (tx, idem, claim) => {
      const to = tx.toUserId;
      if (!to) return Promise.reject(new RangeError('transfer without toUserId'));
      return db.transaction(async (s, probed) => {
        mayMoveWithKey(tx, idem, claim, probed);
        await runLegs(
          s, tx, tx.createdAt, { profiles: true, credits: true },
          debitLeg(sql.DEBIT_PROFILE, tx, tx.createdAt), creditLeg(CREDIT_PROFILE, to, tx),
        );
        await store(s, sql, tx, idem, claim);
        return tx;
      }, movementOptions(idem, claim));
    },

    createHold: (hold, idem) =>
      db.transaction(async (s) => {
        const debit = debitLeg(sql.DEBIT_TO_HELD, hold, hold.createdAt);
        await runLegs(s, hold, hold.createdAt, { profiles: true, credits: false }, { ...debit, params: [...debit.params, hold.toUserId ?? null] });
        if (idem) {
          const outcome = JSON.stringify({ kind: 'hold', hold } satisfies IdempotencyOutcome);
          mustHold(await s.query(sql.INSERT_HOLD_AND_FINISH, [...holdParams(hold), idem.callerId, idem.key, outcome, idem.token]));
        } else {
          await s.query(sql.INSERT_HOLD, holdParams(hold));
        }
        return hold;
      }),

    captureHold: ({ holdId, transaction: tx, now }, idem) => {
      if (!isUuid(holdId)) return Promise.reject(new HoldNotFound());
      return db.transaction(async (s) => {
        // The parties are the transaction's (the hold's, which never change: checked once
        // the hold is locked), so nothing is read before locking in the transfer order.
        const payee = tx.toUserId;
        const credit = async (): Promise<boolean> => payee === undefined || creditIfFits(s, payee, tx.currency, tx.amount);
        // A payee with the lower user id is locked (credited) before the payer's hold and balance.
        const payeeFirst = payee !== undefined && payee < tx.userId;
        const payeeFits = payeeFirst ? await credit() : true;
        const hold = await lockHold(s, holdId);
        assertCaptureOf(hold, tx);
        const refused = holdRefusal(hold, 'captured', now);
        if (refused) throw refused;
        if (tx.amount > hold.amount) throw new InvalidRequest('amount exceeds the hold', 'amount');
        if (!payeeFits) throw new BalanceOverflow();
        const captured = await settleHold(s, sql, holdId, 'captured', tx.amount, tx.id, now);
        if (!payeeFirst && !(await credit())) throw new BalanceOverflow();
        await storeLinked(s, sql, tx, idem);
        return { hold: captured, transaction: tx };
      });
    },

    voidHold: ({ holdId, now }, idem) => {
      if (!isUuid(holdId)) return Promise.reject(new HoldNotFound());
      return db.transaction(async (s) => {
        const refused = holdRefusal(await lockHold(s, holdId), 'voided', now);
        if (refused) throw refused;
        const voided = await settleHold(s, sql, holdId, 'voided', 0, null, now);
        if (idem) await finish(s, idem, { kind: 'hold', hold: voided });
        return voided;
      });
    },

    async releaseExpiredHolds({ now, limit }) {
      // One statement, its own transaction; it never waits on a lock (see RELEASE_DUE_HOLDS).
      const [r] = await db.query<{ released: number }>(sql.RELEASE_DUE_HOLDS, [now, limit]);
      return Number(r?.released ?? 0);
    },

    async getHold(id, now) {
      if (!isUuid(id)) return null;
      const [row] = await db.query<HoldRow>(`SELECT ${HOLD_COLUMNS} FROM holds WHERE id = $1::uuid`, [id], { idempotent: true });
      return row ? holdAsOf(toHold(row), now) : null;
    },

    async listHolds(q) {
      const { sql, params } = holdsQuery(q);
      const rows = await db.query<HoldRow>(sql, params, { idempotent: true });
      return rows.map((r) => holdAsOf(toHold(r), q.now));
    },

    refund: ({ refund, now }, idem) => {
      const originalId = refund.refundOf;
      if (originalId === undefined || !isUuid(originalId)) return Promise.reject(new TransactionNotFound());
      return db.transaction(async (s) => {
        // Locked until COMMIT: racing refunds of one original take turns here.
        const [row] = await s.query<TransactionRow>(`SELECT ${TX_COLUMNS} FROM transactions WHERE id = $1::uuid FOR UPDATE`, [originalId]);
        if (!row) throw new TransactionNotFound();
        const original = toTransaction(row);
        const refused = refundRefusal(original, refund.amount);
        if (refused) throw refused;
        if (original.type === 'withdrawal') {
          if (!(await creditIfFits(s, refund.userId, refund.currency, refund.amount))) throw new BalanceOverflow();
        } else {
          // A transfer's payee gives the money back to the sender; a deposit's owner to the gateway.
          const to = refund.toUserId;
          await runLegs(
            s, refund, now, { profiles: false, credits: true },
            debitLeg(sql.DEBIT, refund, now), to === undefined ? undefined : creditLeg(CREDIT, to, refund),
          );
        }
        await s.query(sql.ADJUST_REFUNDED, [originalId, String(refund.amount), now]);
        if (refund.status === 'pending' && idem) {
          // The gateway is asked next: linked to the claim like a deposit, the outcome recorded later.
          mustHold(await s.query(sql.INSERT_LINKED_TRANSACTION_AND_LINK, [...linkedTransactionParams(refund), idem.callerId, idem.key, idem.token]));
        } else if (refund.status === 'pending') {
          await s.query(sql.INSERT_LINKED_TRANSACTION, linkedTransactionParams(refund));
        } else {
          await storeLinked(s, sql, refund, idem);
        }
        return refund;
      });
    },

    async setPaymentRef(id, paymentRef) {
      const rows = isUuid(id)
        ? await db.query('UPDATE transactions SET payment_ref = $2 WHERE id = $1::uuid RETURNING id', [id, paymentRef], { idempotent: true })
        : [];
      if (rows.length === 0) throw new TransactionNotFound();
    },

    async updateMetadata(id: string, metadata: Metadata, now: string) {
      const [row] = isUuid(id)
        ? await db.query<TransactionRow>(sql.UPDATE_METADATA, [id, JSON.stringify(metadata), now])
        : [];
      if (!row) throw new TransactionNotFound();
      return toTransaction(row);
    },

    async getTransaction(id) {
      if (!isUuid(id)) return null;
      const [row] = await db.query<TransactionRow>(`SELECT ${TX_COLUMNS} FROM transactions WHERE id = $1::uuid`, [id], { idempotent: true });
      return row ? toTransaction(row) : null;
    },

    async listTransactions(q: HistoryQuery) {
      const { sql, params } = historyQuery(q);
      const rows = await db.query<TransactionRow>(sql, params, { idempotent: true });
      return rows.map(toTransaction);
    },

    async purgeExpiredIdempotency(now, limit) {
      // Bounded batches on the expiry index, so a scheduled run never holds long locks.
      const rows = await db.query(
        `DELETE FROM idempotency_keys WHERE ctid IN (
           SELECT ctid FROM idempotency_keys WHERE expires_at < $1::timestamptz LIMIT $2)
         RETURNING 1 AS purged`,
        [now, limit],
        { idempotent: true },
      );
      return rows.length;
    },

    async listPendingDeposits({ createdBefore, limit }) {
      const rows = await db.query<TransactionRow>(pendingQuery('deposit'), [createdBefore, limit], { idempotent: true });
      return rows.map(toTransaction);
    },

    async listPendingRefunds({ createdBefore, limit }) {
      const rows = await db.query<TransactionRow>(pendingQuery('refund'), [createdBefore, limit], { idempotent: true });
      return rows.map(toTransaction);
    },

    async getBalances(userId, now = new Date().toISOString()): Promise<Balance[]> {
      const rows = await db.query<BalanceRow>(GET_BALANCES, [userId, now], { idempotent: true });
      return rows.map(toBalance);
    },
  };
};
