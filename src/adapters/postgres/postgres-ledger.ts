// Ledger on PostgreSQL (pg Pool or PGlite, through SqlExecutor). Every money
// operation is one SQL transaction at READ COMMITTED: guarded UPDATEs check and
// write in one statement, and the idempotency outcome commits with the movement.
import { BalanceOverflow, IdempotencyKeyInUse, InsufficientFunds, InvalidStateTransition, TransactionNotFound } from '../../core/errors';
import { decideClaim } from '../../core/idempotency-decision';
import { MAX_BALANCE, parseStoredAmount, type Balance } from '../../core/money';
import type {
  ClaimTimes, HistoryQuery, IdempotencyClaim, IdempotencyOutcome, IdempotencyScope, Ledger, SettleInput,
} from '../../core/ports';
import type { Metadata, Transaction } from '../../core/transaction';
import { profileNotFound } from '../../core/user';
import { isCheckViolation } from './pg-errors';
import {
  toBalance, toMs, toOutcome, toTransaction, transactionParams,
  type BalanceRow, type IdempotencyRow, type TransactionRow,
} from './postgres-rows';
import {
  CREDIT, CREDIT_PROFILE, DEBIT_PROFILE, ENSURE_BALANCE, REFUSAL_FACTS, FINISH_IDEMPOTENCY, historyQuery, INSERT_TRANSACTION, INSERT_TRANSACTION_AND_CLAIM_DONE, INSERT_TRANSACTION_AND_FINISH, TX_COLUMNS,
} from './postgres-sql';
import type { SqlExecutor, SqlSession } from './sql-executor';

// Ids are uuid columns: anything else cannot exist, and must not reach the server as a type error.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const isUuid = (id: string): boolean => UUID.test(id);

const CLAIM_NEW_KEY = `INSERT INTO idempotency_keys (caller_id, key, fingerprint, state, lease_until, expires_at, claim_token)
  VALUES ($1, $2, $3, 'in_flight', $4::timestamptz, $5::timestamptz, $6)
  ON CONFLICT (caller_id, key) DO NOTHING RETURNING 1 AS ok`;

const outcomeJson = (tx: Transaction): string =>
  JSON.stringify({ kind: 'transaction', transaction: tx } satisfies IdempotencyOutcome);

/** The "balance beyond the exact maximum" check (balances_available_max) becomes BalanceOverflow. */
const rethrowOverflow = (err: unknown): never => {
  if (isCheckViolation(err, 'balances_available_max')) throw new BalanceOverflow();
  throw err;
};

/** Credits a settling deposit when the balance can hold it; false (nothing written) when it cannot. */
const creditIfFits = async (s: SqlSession, userId: string, currency: string, amount: number): Promise<boolean> =>
  (await s.query(CREDIT, [userId, currency, String(amount)])).length > 0;

/**
 * Why a withdrawal's or transfer's guarded statement matched nothing, in the port's
 * order: the sender's profile, the recipient's, then the balance. Runs only on a refusal.
 */
const refusal = async (s: SqlSession, tx: Transaction, debited: boolean): Promise<Error> => {
  const [f] = await s.query<{ sender: boolean; recipient: boolean; sender_available: string | null; recipient_available: string | null }>(
    REFUSAL_FACTS, [tx.userId, tx.toUserId ?? null, tx.currency],
  );
  if (!f?.sender) return profileNotFound();
  if (tx.toUserId !== undefined && !f.recipient) return profileNotFound('toUserId');
  // Read after this transaction's own debit, when that leg already ran.
  const before = f.sender_available === null ? 0 : parseStoredAmount(f.sender_available) + (debited ? tx.amount : 0);
  if (before < tx.amount) return new InsufficientFunds();
  if (tx.toUserId !== undefined && f.recipient_available !== null && parseStoredAmount(f.recipient_available) > MAX_BALANCE - tx.amount) {
    return new BalanceOverflow();
  }
  return new InsufficientFunds();
};

/** One leg of a withdrawal or transfer: DEBIT_PROFILE for the sender, CREDIT_PROFILE for a recipient. */
interface Leg {
  sql: string;
  userId: string;
  /** Set on a transfer's second leg when the first one was the debit. */
  afterDebit?: boolean;
}

/** Runs a leg; no row moved: the refusal, diagnosed in the port's order. */
const runLeg = async (s: SqlSession, tx: Transaction, leg: Leg): Promise<void> => {
  const rows = await s.query(leg.sql, [leg.userId, tx.currency, String(tx.amount)]).catch(rethrowOverflow);
  if (rows.length === 0) throw await refusal(s, tx, leg.afterDebit === true);
};

/** A write for a key that this request no longer holds: throwing rolls the transaction back. */
const mustHold = (rows: unknown[]): void => {
  if (rows.length === 0) throw new IdempotencyKeyInUse();
};

/**
 * Stores a completed movement and, for `idem`, its outcome: the last statement before
 * COMMIT. With `claim` (the fast path) the key is created here, already done.
 */
const store = async (s: SqlSession, tx: Transaction, idem: IdempotencyScope | undefined, claim: ClaimTimes | undefined): Promise<void> => {
  if (idem && claim) {
    const [r] = await s.query<{ claimed: boolean }>(INSERT_TRANSACTION_AND_CLAIM_DONE, [
      ...transactionParams(tx), idem.callerId, idem.key, idem.fingerprint, claim.leaseUntil, claim.expiresAt, idem.token, outcomeJson(tx),
    ]);
    if (!r?.claimed) throw new IdempotencyKeyInUse();
  } else if (idem) {
    mustHold(await s.query(INSERT_TRANSACTION_AND_FINISH, [...transactionParams(tx), idem.callerId, idem.key, outcomeJson(tx), idem.token]));
  } else {
    await s.query(INSERT_TRANSACTION, transactionParams(tx));
  }
};

export const makePostgresLedger = (db: SqlExecutor): Ledger => {
  const finish = async (s: Pick<SqlSession, 'query'>, scope: IdempotencyScope, outcome: IdempotencyOutcome): Promise<void> =>
    mustHold(await s.query(FINISH_IDEMPOTENCY, [scope.callerId, scope.key, JSON.stringify(outcome), scope.token]));

  return {
    claimsWithMovement: true,
    claimIdempotency: async (scope: IdempotencyScope, times: ClaimTimes): Promise<IdempotencyClaim> => {
      // Fast path, one autocommitted statement: a new key. Exactly one concurrent
      // claimer inserts; the others (and reused keys) take the transaction below.
      const params = [scope.callerId, scope.key, scope.fingerprint, times.leaseUntil, times.expiresAt, scope.token];
      const fresh = await db.query(CLAIM_NEW_KEY, params);
      if (fresh.length > 0) return { kind: 'claimed' };
      return db.transaction(async (s) => {
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
              `INSERT INTO idempotency_keys (caller_id, key, fingerprint, state, lease_until, expires_at, claim_token)
               VALUES ($1, $2, $3, 'in_flight', $4::timestamptz, $5::timestamptz, $6)
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
      });
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
        await s.query(INSERT_TRANSACTION, transactionParams(tx));
        // The user now holds this currency, even before the deposit settles.
        await s.query(ENSURE_BALANCE, [tx.userId, tx.currency]);
        if (idem) {
          mustHold(await s.query(
            `UPDATE idempotency_keys SET transaction_id = $3::uuid
             WHERE caller_id = $1 AND key = $2 AND state = 'in_flight' AND claim_token = $4 RETURNING 1 AS held`,
            [idem.callerId, idem.key, tx.id, idem.token],
          ));
        }
        return tx;
      }),

    settle: (input: SettleInput, idem) => {
      if (!isUuid(input.id)) return Promise.reject(new TransactionNotFound());
      return db.transaction(async (s) => {
        // Only one of many racing settlements finds the row still pending (the others
        // wait on its row lock, then re-check the WHERE and match nothing).
        const [row] = await s.query<TransactionRow>(
          `UPDATE transactions SET status = $2, updated_at = $3::timestamptz,
             metadata = COALESCE($4::text::jsonb, metadata)
           WHERE id = $1::uuid AND status = 'pending' RETURNING ${TX_COLUMNS}`,
          [input.id, input.status, input.now, input.metadata ? JSON.stringify(input.metadata) : null],
        );
        if (!row) {
          const [current] = await s.query<{ status: string }>('SELECT status FROM transactions WHERE id = $1::uuid', [input.id]);
          if (!current) throw new TransactionNotFound();
          throw new InvalidStateTransition(current.status, input.status);
        }
        const tx = toTransaction(row);
        if (tx.status === 'completed' && tx.type === 'deposit' && !(await creditIfFits(s, tx.userId, tx.currency, tx.amount))) {
          // The balance cannot hold it: the deposit fails instead; its outcome is the caller's to record.
          if (idem) {
            mustHold(await s.query(
              `SELECT 1 AS held FROM idempotency_keys
               WHERE caller_id = $1 AND key = $2 AND state = 'in_flight' AND claim_token = $3 FOR UPDATE`,
              [idem.callerId, idem.key, idem.token],
            ));
          }
          const [failed] = await s.query<TransactionRow>(
            `UPDATE transactions SET status = 'failed' WHERE id = $1::uuid RETURNING ${TX_COLUMNS}`,
            [input.id],
          );
          if (!failed) throw new TransactionNotFound();
          return toTransaction(failed);
        }
        if (idem) await finish(s, idem, { kind: 'transaction', transaction: tx });
        return tx;
      });
    },

    withdraw: (tx, idem, claim) =>
      db.transaction(async (s) => {
        await runLeg(s, tx, { sql: DEBIT_PROFILE, userId: tx.userId });
        await store(s, tx, idem, claim);
        return tx;
      }),

    transfer: (tx, idem, claim) => {
      const to = tx.toUserId;
      if (!to) return Promise.reject(new RangeError('transfer without toUserId'));
      return db.transaction(async (s) => {
        // Lock the two balance rows in user_id order: no two transfers can deadlock.
        const debit: Leg = { sql: DEBIT_PROFILE, userId: tx.userId };
        const credit: Leg = { sql: CREDIT_PROFILE, userId: to };
        const [first, second] = tx.userId < to ? [debit, { ...credit, afterDebit: true }] : [credit, debit];
        await runLeg(s, tx, first);
        await runLeg(s, tx, second);
        await store(s, tx, idem, claim);
        return tx;
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
        ? await db.query<TransactionRow>(
          `UPDATE transactions SET metadata = $2::text::jsonb, updated_at = $3::timestamptz WHERE id = $1::uuid RETURNING ${TX_COLUMNS}`,
          [id, JSON.stringify(metadata), now],
          { idempotent: true },
        )
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
      const rows = await db.query<TransactionRow>(
        `SELECT ${TX_COLUMNS} FROM transactions
         WHERE type = 'deposit' AND status = 'pending' AND created_at < $1::timestamptz
         ORDER BY created_at, id LIMIT $2`,
        [createdBefore, limit],
        { idempotent: true },
      );
      return rows.map(toTransaction);
    },

    async getBalances(userId): Promise<Balance[]> {
      const rows = await db.query<BalanceRow>('SELECT currency, available FROM balances WHERE user_id = $1 ORDER BY currency', [userId], {
        idempotent: true,
      });
      return rows.map(toBalance);
    },
  };
};
