import { MAX_BALANCE } from '../../core/money';
import type { HistoryQuery } from '../../core/ports';

// The ledger's statements, in one place so the benchmark can run exactly the same
// SQL raw. Parameters are cast explicitly: pg and PGlite then agree on every type
// (jsonb as text, amounts as decimal text).

export const TX_COLUMNS =
  'id, type, status, user_id, to_user_id, amount, currency, metadata, payment_ref, created_at, updated_at';

export const INSERT_TRANSACTION = `
INSERT INTO transactions (${TX_COLUMNS})
VALUES ($1::uuid, $2, $3, $4, $5, $6::bigint, $7, $8::text::jsonb, $9, $10::timestamptz, $11::timestamptz)`;

/** Creates the balance row at zero if missing: the user now "holds" the currency. */
export const ENSURE_BALANCE = `
INSERT INTO balances (user_id, currency, available) VALUES ($1, $2, 0)
ON CONFLICT (user_id, currency) DO NOTHING`;

/**
 * The guarded debit of a withdrawal or transfer: no row comes back when the balance
 * does not cover it or the user has no profile, so the movement checks both without a
 * statement of its own.
 */
export const DEBIT_PROFILE = `
UPDATE balances SET available = available - $3::bigint
WHERE user_id = $1 AND currency = $2 AND available >= $3::bigint
  AND EXISTS (SELECT 1 FROM users WHERE id = $1)
RETURNING available`;

/**
 * A transfer's credit to its recipient: no row back when the recipient has no profile
 * or the balance cannot hold it (guarded here, so the CHECK constraint never aborts
 * the transaction before the refusal is diagnosed).
 */
export const CREDIT_PROFILE = `
INSERT INTO balances (user_id, currency, available)
SELECT $1, $2, $3::bigint WHERE EXISTS (SELECT 1 FROM users WHERE id = $1)
ON CONFLICT (user_id, currency) DO UPDATE SET available = balances.available + EXCLUDED.available
  WHERE balances.available <= ${MAX_BALANCE} - EXCLUDED.available
RETURNING available`;

/**
 * After a refused leg, on that path only: what the refusal was ($1 sender, $2 recipient
 * or NULL for a withdrawal, $3 currency). Read in the same transaction, after the legs.
 */
export const REFUSAL_FACTS = `
SELECT EXISTS (SELECT 1 FROM users WHERE id = $1) AS sender,
       EXISTS (SELECT 1 FROM users WHERE id = $2) AS recipient,
       (SELECT available FROM balances WHERE user_id = $1 AND currency = $3) AS sender_available,
       (SELECT available FROM balances WHERE user_id = $2 AND currency = $3) AS recipient_available`;

/**
 * A settling deposit's credit, creating the row if needed: no row back when the balance
 * cannot hold it (guarded like CREDIT_PROFILE, so no CHECK violation aborts the settle;
 * a new row never exceeds the limit, amounts being far below it).
 */
export const CREDIT = `
INSERT INTO balances (user_id, currency, available) VALUES ($1, $2, $3::bigint)
ON CONFLICT (user_id, currency) DO UPDATE SET available = balances.available + EXCLUDED.available
  WHERE balances.available <= ${MAX_BALANCE} - EXCLUDED.available
RETURNING available`;

/** Only while the key is in flight with the writer's claim token ($4); no row back = not held. */
export const FINISH_IDEMPOTENCY = `
UPDATE idempotency_keys SET state = 'done', outcome = $3::text::jsonb
WHERE caller_id = $1 AND key = $2 AND state = 'in_flight' AND claim_token = $4
RETURNING 1 AS held`;

/**
 * INSERT_TRANSACTION ($1…$11) and FINISH_IDEMPOTENCY ($12 caller, $13 key, $14 outcome,
 * $15 claim token) in one statement; no row back = the key is not held (roll back).
 */
export const INSERT_TRANSACTION_AND_FINISH = `
WITH inserted AS (${INSERT_TRANSACTION} RETURNING id)
UPDATE idempotency_keys SET state = 'done', outcome = $14::text::jsonb, transaction_id = COALESCE(transaction_id, (SELECT id FROM inserted))
WHERE caller_id = $12 AND key = $13 AND state = 'in_flight' AND claim_token = $15
RETURNING 1 AS held`;

/**
 * The fast path (Ledger.claimsWithMovement): INSERT_TRANSACTION ($1…$11) and a new
 * idempotency key created already `done` with this outcome ($12 caller, $13 key, $14
 * fingerprint, $15 lease until, $16 expires at, $17 claim token, $18 outcome), in the
 * movement's last statement. A keyed movement then costs the statements of an unkeyed
 * one, and the key is written once. `claimed` is false when the key has any record —
 * or gets one from a concurrent transaction, which this statement waits for — and the
 * caller rolls the whole movement back: one unique index decides, so money moves once.
 */
export const INSERT_TRANSACTION_AND_CLAIM_DONE = `
WITH inserted AS (${INSERT_TRANSACTION} RETURNING id),
claimed AS (
  INSERT INTO idempotency_keys (caller_id, key, fingerprint, state, lease_until, expires_at, claim_token, transaction_id, outcome)
  SELECT $12, $13, $14, 'done', $15::timestamptz, $16::timestamptz, $17, id, $18::text::jsonb FROM inserted
  ON CONFLICT (caller_id, key) DO NOTHING RETURNING 1 AS ok
)
SELECT EXISTS (SELECT 1 FROM claimed) AS claimed`;

/**
 * A user's history page: one keyset range scan on each party's index
 * (transactions_owner_history, transactions_recipient_history), merged. A transfer
 * is never to oneself, so no row appears in both arms.
 */
export const historyQuery = (q: HistoryQuery): { sql: string; params: unknown[] } => {
  const params: unknown[] = [q.userId, q.limit];
  const filters: string[] = [];
  if (q.before) {
    params.push(q.before.createdAt, q.before.id);
    filters.push(`(created_at, id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
  }
  if (q.type) filters.push(`type = $${params.push(q.type)}`);
  if (q.status) filters.push(`status = $${params.push(q.status)}`);
  const where = filters.map((f) => ` AND ${f}`).join('');
  const sql = `SELECT ${TX_COLUMNS} FROM (
    (SELECT ${TX_COLUMNS} FROM transactions WHERE user_id = $1${where} ORDER BY created_at DESC, id DESC LIMIT $2)
    UNION ALL
    (SELECT ${TX_COLUMNS} FROM transactions WHERE to_user_id = $1${where} ORDER BY created_at DESC, id DESC LIMIT $2)
  ) AS history ORDER BY created_at DESC, id DESC LIMIT $2`;
  return { sql, params };
};
