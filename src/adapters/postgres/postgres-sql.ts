import { MAX_BALANCE } from '../../core/money';
import type { HoldQuery } from '../../core/hold';
import type { HistoryQuery } from '../../core/ports';
import { lockLiteral } from './sql-executor';
import {
  changed, HOLD_CREATED, HOLD_SETTLED, resourceJson, TX_CREATED, TX_SETTLED, TX_UPDATED, type Announcement,
} from './postgres-events-sql';

// The ledger's statements, in one place so the benchmark can run exactly the same
// SQL raw. Parameters are cast explicitly: pg and PGlite then agree on every type
// (jsonb as text, amounts as decimal text). Every statement that changes a
// transaction or hold also counts the change in its `version`, and comes in two
// variants (see ledgerStatements): with events on it writes the change's event too.

/** What a movement writes; the rest (refunded_amount, hold_id, refund_of) takes its default. */
const TX_INSERT_COLUMNS =
  'id, type, status, user_id, to_user_id, amount, currency, metadata, payment_ref, created_at, updated_at';

export const TX_COLUMNS = `${TX_INSERT_COLUMNS}, refunded_amount, hold_id, refund_of`;
/** What an event is built from: every column, and the change count. */
const TX_ALL = `${TX_COLUMNS}, version`;

/** A new transaction (version 1). */
const TX_INSERT = `
INSERT INTO transactions (${TX_INSERT_COLUMNS})
VALUES ($1::uuid, $2, $3, $4, $5, $6::bigint, $7, $8::text::jsonb, $9, $10::timestamptz, $11::timestamptz)`;

/** TX_INSERT plus $12 hold_id (a capture) and $13 refund_of (a refund). */
const LINKED_TX_INSERT = `
INSERT INTO transactions (${TX_INSERT_COLUMNS}, hold_id, refund_of)
VALUES ($1::uuid, $2, $3, $4, $5, $6::bigint, $7, $8::text::jsonb, $9, $10::timestamptz, $11::timestamptz, $12::uuid, $13::uuid)`;

/** `insert` on its own: as is with events off; with events on, with its event in the same statement. */
const standalone = (events: boolean, insert: string, all: string, a: Announcement): string =>
  events ? `WITH ${changed(true, 'inserted', insert, 'id', all, a)}\nSELECT count(*) AS inserted FROM inserted` : insert;

/** Creates the balance row at zero if missing: the user now "holds" the currency. */
export const ENSURE_BALANCE = `
INSERT INTO balances (user_id, currency, available) VALUES ($1, $2, 0)
ON CONFLICT (user_id, currency) DO NOTHING`;

/**
 * A guarded debit of $3 from $1 in $2 that first releases the expired holds (at $4);
 * `toHeld` also adds $3 to held. The release, in the debit's own statement: the
 * payer's holds in the currency past their expiry become `expired` (at their expiry),
 * and `released.amount` (their sum, usually 0) goes back from held to available.
 */
const releasingDebit = (events: boolean, guards: string, toHeld = false): string => `
WITH ${changed(events, 'expired', `
  UPDATE holds SET status = 'expired', updated_at = expires_at, version = version + 1
  WHERE user_id = $1 AND currency = $2 AND status = 'held' AND expires_at <= $4::timestamptz`, 'amount', HOLD_ALL, HOLD_SETTLED)},
released AS (SELECT COALESCE(sum(amount), 0)::bigint AS amount FROM expired)
UPDATE balances SET available = available + released.amount - $3::bigint,
  held = held - released.amount${toHeld ? ' + $3::bigint' : ''}
FROM released
WHERE user_id = $1 AND currency = $2 AND available + released.amount >= $3::bigint${guards}
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
 * or NULL for a withdrawal, $3 currency, $4 now). Read in the same transaction, after
 * the legs; the sender's available counts holds past expiry that no leg released yet.
 */
export const REFUSAL_FACTS = `
SELECT EXISTS (SELECT 1 FROM users WHERE id = $1) AS sender,
       EXISTS (SELECT 1 FROM users WHERE id = $2) AS recipient,
       (SELECT available + (SELECT COALESCE(sum(amount), 0) FROM holds
          WHERE user_id = $1 AND currency = $3 AND status = 'held' AND expires_at <= $4::timestamptz)
        FROM balances WHERE user_id = $1 AND currency = $3)::bigint AS sender_available,
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

/** Links a new pending deposit or refund ($3) to the claim, only while the key is in flight with the token ($4). */
export const LINK_IDEMPOTENCY = `
UPDATE idempotency_keys SET transaction_id = $3::uuid
WHERE caller_id = $1 AND key = $2 AND state = 'in_flight' AND claim_token = $4
RETURNING 1 AS held`;

/** Only while the key is in flight with the writer's claim token ($4); no row back = not held. */
export const FINISH_IDEMPOTENCY = `
UPDATE idempotency_keys SET state = 'done', outcome = $3::text::jsonb
WHERE caller_id = $1 AND key = $2 AND state = 'in_flight' AND claim_token = $4
RETURNING 1 AS held`;

/**
 * An INSERT of `params` parameters and FINISH_IDEMPOTENCY ($n+1 caller, $n+2 key,
 * $n+3 outcome, $n+4 claim token) in one statement; no row back = the key is not held
 * (roll back). `linkId` also links what the INSERT created to the claim.
 */
const insertAndFinish = (events: boolean, insert: string, all: string, a: Announcement, params: number, linkId = true): string => `
WITH ${changed(events, 'inserted', insert, 'id', all, a)}
UPDATE idempotency_keys SET state = 'done', outcome = $${params + 3}::text::jsonb${
  linkId ? ', transaction_id = COALESCE(transaction_id, (SELECT id FROM inserted))' : ''}
WHERE caller_id = $${params + 1} AND key = $${params + 2} AND state = 'in_flight' AND claim_token = $${params + 4}
RETURNING 1 AS held`;

/**
 * The fast path (Ledger.claimsWithMovement), with the key on the movement's own row
 * (migration 0005): INSERT_TRANSACTION ($1…$11) carrying its key ($12) and fingerprint
 * ($13). A row `claimed` comes back unless another movement of the owner ($4, the
 * caller) carries the key: the unique index decides, waiting for a concurrent one.
 * That no claim in idempotency_keys has the key was checked under the key's lock
 * first (keyTaken, in the BEGIN).
 */
const insertKeyedMovement = (events: boolean): string => {
  const insert = `
  INSERT INTO transactions (${TX_INSERT_COLUMNS}, idempotency_key, idempotency_fingerprint)
  VALUES ($1::uuid, $2, $3, $4, $5, $6::bigint, $7, $8::text::jsonb, $9, $10::timestamptz, $11::timestamptz, $12, $13)
  ON CONFLICT (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING`;
  return events
    ? `WITH ${changed(true, 'inserted', insert, 'id', TX_ALL, TX_CREATED)}\nSELECT 1 AS claimed FROM inserted`
    : `${insert}\nRETURNING 1 AS claimed`;
};

/**
 * Run under the key's lock (`lock`, a keyLock number, spliced in as an integer literal:
 * it travels in the BEGIN message): a row when a claim in idempotency_keys has the key
 * (or one whose lock_hash collides), none when it is free.
 */
export const keyTaken = (lock: string): string =>
  `SELECT 1 AS taken FROM idempotency_keys WHERE lock_hash = ${lockLiteral(lock)} LIMIT 1`;

/**
 * A pending transaction ($1) settles to $2 at $3 (metadata $4 replaces the stored one
 * when given); no row back when it is not pending. With events on, `event_id` names
 * the event written, so a deposit that then fails instead can correct it (failDeposit).
 */
const settleTransaction = (events: boolean): string => `
WITH ${changed(events, 'settled', `
  UPDATE transactions SET status = $2, updated_at = $3::timestamptz, metadata = COALESCE($4::text::jsonb, metadata),
    version = version + 1
  WHERE id = $1::uuid AND status = 'pending'`, TX_COLUMNS, TX_ALL, TX_SETTLED)}
SELECT ${TX_COLUMNS}${events ? ', (SELECT id FROM settled_events) AS event_id' : ''} FROM settled`;

/**
 * A completing deposit ($1) the balance cannot hold fails instead, in the same
 * transaction: the same change (no new version), so with events on its event ($2,
 * from settleTransaction) becomes `transaction.failed` with the row as now stored.
 */
const failDeposit = (events: boolean): string => `
WITH failed AS (UPDATE transactions SET status = 'failed' WHERE id = $1::uuid RETURNING ${TX_ALL})${events ? `,
corrected AS (
  UPDATE outbox SET type = 'transaction.failed', resource = ${resourceJson('transaction', 'r')}
  FROM failed r WHERE outbox.id = $2::uuid
)` : ''}
SELECT ${TX_COLUMNS} FROM failed`;

/** A refund's original ($1): $2 more refunded (less, for a failed deposit refund), at $3. */
const adjustRefunded = (events: boolean): string => `
WITH ${changed(events, 'adjusted', `
  UPDATE transactions SET refunded_amount = refunded_amount + $2::bigint, updated_at = $3::timestamptz, version = version + 1
  WHERE id = $1::uuid`, 'id', TX_ALL, TX_UPDATED)}
SELECT count(*) AS adjusted FROM adjusted`;

/**
 * New metadata ($2) for a transaction ($1) at $3. A movement that carries its
 * idempotency key keeps the metadata it was created with (first_metadata): its replay
 * answers it.
 */
const updateMetadata = (events: boolean): string => `
WITH ${changed(events, 'updated', `
  UPDATE transactions SET metadata = $2::text::jsonb, updated_at = $3::timestamptz, version = version + 1,
    first_metadata = CASE WHEN idempotency_key IS NOT NULL THEN COALESCE(first_metadata, metadata) END
  WHERE id = $1::uuid`, TX_COLUMNS, TX_ALL, TX_UPDATED)}
SELECT ${TX_COLUMNS} FROM updated`;

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

const holdColumns = (prefix = ''): string =>
  ['id', 'user_id', 'to_user_id', 'amount', 'currency', 'captured_amount', 'status', 'expires_at', 'transaction_id', 'metadata', 'created_at', 'updated_at']
    .map((c) => `${prefix}${c}`).join(', ');

export const HOLD_COLUMNS = holdColumns();
const HOLD_ALL = `${HOLD_COLUMNS}, version`;

/** A new hold (version 1). */
const HOLD_INSERT = `
INSERT INTO holds (${HOLD_COLUMNS})
VALUES ($1::uuid, $2, $3, $4::bigint, $5, $6::bigint, $7, $8::timestamptz, $9::uuid, $10::text::jsonb, $11::timestamptz, $12::timestamptz)`;

/**
 * A capture or void of a locked, live hold ($1), and its payer's balance: the whole
 * hold leaves held, all but the captured amount ($3) returns to available. $2 the new
 * status, $4 the capture's transaction, $5 now. `fits` is false (roll back) when
 * available cannot take the rest.
 */
const settleHold = (events: boolean): string => `
WITH ${changed(events, 'settled', `
  UPDATE holds SET status = $2, captured_amount = $3::bigint, transaction_id = $4::uuid, updated_at = $5::timestamptz,
    version = version + 1
  WHERE id = $1::uuid AND status = 'held'`, HOLD_COLUMNS, HOLD_ALL, HOLD_SETTLED)},
payer AS (
  UPDATE balances b SET held = b.held - s.amount, available = b.available + (s.amount - $3::bigint)
  FROM settled s
  WHERE b.user_id = s.user_id AND b.currency = s.currency AND b.available <= ${MAX_BALANCE} - (s.amount - $3::bigint)
  RETURNING 1
)
SELECT ${HOLD_COLUMNS}, EXISTS (SELECT 1 FROM payer) AS fits FROM settled`;

/**
 * Releases up to $2 holds past their expiry at $1, oldest expiry first, in one
 * statement that never waits: holds and payer balances that another transaction has
 * locked are skipped (that transaction, or the next run, releases them), so
 * concurrent runs share the work and no movement can deadlock with a run.
 */
const releaseDueHolds = (events: boolean): string => `
WITH due AS (
  SELECT id, user_id, currency FROM holds
  WHERE status = 'held' AND expires_at <= $1::timestamptz
  ORDER BY expires_at LIMIT $2
  FOR UPDATE SKIP LOCKED
),
payers AS (
  SELECT user_id, currency FROM balances
  WHERE (user_id, currency) IN (SELECT user_id, currency FROM due)
  FOR UPDATE SKIP LOCKED
),
${changed(events, 'released', `
  UPDATE holds h SET status = 'expired', updated_at = h.expires_at, version = h.version + 1
  FROM due, payers
  WHERE h.id = due.id AND payers.user_id = due.user_id AND payers.currency = due.currency`,
  'h.user_id, h.currency, h.amount', `${holdColumns('h.')}, h.version`, HOLD_SETTLED)},
sums AS (SELECT user_id, currency, sum(amount)::bigint AS amount FROM released GROUP BY user_id, currency),
credited AS (
  UPDATE balances b SET available = b.available + s.amount, held = b.held - s.amount
  FROM sums s WHERE b.user_id = s.user_id AND b.currency = s.currency
  RETURNING 1
)
SELECT (SELECT count(*) FROM released)::int AS released, (SELECT count(*) FROM credited)::int AS credited`;

/** A user's balances ($1) as of $2: holds past their expiry but not yet released count as released. */
export const GET_BALANCES = `
SELECT b.currency,
       (b.available + COALESCE(e.amount, 0))::bigint AS available,
       (b.held - COALESCE(e.amount, 0))::bigint AS held
FROM balances b
LEFT JOIN (
  SELECT currency, sum(amount) AS amount FROM holds
  WHERE user_id = $1 AND status = 'held' AND expires_at <= $2::timestamptz
  GROUP BY currency
) e ON e.currency = b.currency
WHERE b.user_id = $1
ORDER BY b.currency`;

/**
 * A payer's holds page, newest first, on holds_payer_history. A status filter
 * matches the status as of `now` (holdAsOf): a hold stored `held` past its expiry is
 * `expired`.
 */
export const holdsQuery = (q: HoldQuery): { sql: string; params: unknown[] } => {
  const params: unknown[] = [q.userId, q.limit];
  const filters: string[] = [];
  if (q.before) {
    params.push(q.before.createdAt, q.before.id);
    filters.push(`(created_at, id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
  }
  if (q.status === 'held') {
    filters.push(`status = 'held' AND expires_at > $${params.push(q.now)}::timestamptz`);
  } else if (q.status === 'expired') {
    filters.push(`(status = 'expired' OR (status = 'held' AND expires_at <= $${params.push(q.now)}::timestamptz))`);
  } else if (q.status) {
    filters.push(`status = $${params.push(q.status)}`);
  }
  const where = filters.map((f) => ` AND ${f}`).join('');
  return {
    sql: `SELECT ${HOLD_COLUMNS} FROM holds WHERE user_id = $1${where} ORDER BY created_at DESC, id DESC LIMIT $2`,
    params,
  };
};

/** Pending transactions of one type (deposits, refunds) created before $1, oldest first ($2 limit). */
export const pendingQuery = (type: 'deposit' | 'refund'): string => `
SELECT ${TX_COLUMNS} FROM transactions
WHERE type = '${type}' AND status = 'pending' AND created_at < $1::timestamptz
ORDER BY created_at, id LIMIT $2`;

/** The statements that change a transaction or a hold, each counting the change in `version`. */
export interface LedgerStatements {
  /** TX_INSERT: $1…$11 (transactionParams). */
  INSERT_TRANSACTION: string;
  /** $1…$13 (linkedTransactionParams): a capture's hold, a refund's original. */
  INSERT_LINKED_TRANSACTION: string;
  /** INSERT_TRANSACTION ($1…$11) and FINISH_IDEMPOTENCY ($12 caller, $13 key, $14 outcome, $15 claim token). */
  INSERT_TRANSACTION_AND_FINISH: string;
  /** INSERT_LINKED_TRANSACTION ($1…$13) and FINISH_IDEMPOTENCY ($14…$17). */
  INSERT_LINKED_TRANSACTION_AND_FINISH: string;
  /** INSERT_LINKED_TRANSACTION ($1…$13) and LINK_IDEMPOTENCY ($14 caller, $15 key, $16 claim token): a pending refund. */
  INSERT_LINKED_TRANSACTION_AND_LINK: string;
  /** INSERT_TRANSACTION ($1…$11) with its key ($12) and fingerprint ($13) on the row: the owner's own fast path. */
  INSERT_KEYED_MOVEMENT: string;
  SETTLE_TRANSACTION: string;
  FAIL_DEPOSIT: string;
  ADJUST_REFUNDED: string;
  UPDATE_METADATA: string;
  /**
   * The guarded debit of a withdrawal or transfer ($4: its time): no row comes back
   * when the balance does not cover it or the user has no profile, so the movement
   * checks both without a statement of its own.
   */
  DEBIT_PROFILE: string;
  /** A refund's debit (of a transfer's payee, a deposit's owner): no profile is required. */
  DEBIT: string;
  /** A new hold: available → held, guarded like DEBIT_PROFILE and by the payee's profile ($5, NULL for none). */
  DEBIT_TO_HELD: string;
  /** HOLD_INSERT: $1…$12 (holdParams). */
  INSERT_HOLD: string;
  /** INSERT_HOLD ($1…$12) and FINISH_IDEMPOTENCY ($13…$16). */
  INSERT_HOLD_AND_FINISH: string;
  SETTLE_HOLD: string;
  RELEASE_DUE_HOLDS: string;
}

/** The ledger's changing statements; with `events` on, each also writes its changes' events. */
const ledgerStatements = (events: boolean): LedgerStatements => ({
  INSERT_TRANSACTION: standalone(events, TX_INSERT, TX_ALL, TX_CREATED),
  INSERT_LINKED_TRANSACTION: standalone(events, LINKED_TX_INSERT, TX_ALL, TX_CREATED),
  INSERT_TRANSACTION_AND_FINISH: insertAndFinish(events, TX_INSERT, TX_ALL, TX_CREATED, 11),
  INSERT_LINKED_TRANSACTION_AND_FINISH: insertAndFinish(events, LINKED_TX_INSERT, TX_ALL, TX_CREATED, 13),
  INSERT_LINKED_TRANSACTION_AND_LINK: `
WITH ${changed(events, 'inserted', LINKED_TX_INSERT, 'id', TX_ALL, TX_CREATED)}
UPDATE idempotency_keys SET transaction_id = (SELECT id FROM inserted)
WHERE caller_id = $14 AND key = $15 AND state = 'in_flight' AND claim_token = $16
RETURNING 1 AS held`,
  INSERT_KEYED_MOVEMENT: insertKeyedMovement(events),
  SETTLE_TRANSACTION: settleTransaction(events),
  FAIL_DEPOSIT: failDeposit(events),
  ADJUST_REFUNDED: adjustRefunded(events),
  UPDATE_METADATA: updateMetadata(events),
  DEBIT_PROFILE: releasingDebit(events, `
  AND EXISTS (SELECT 1 FROM users WHERE id = $1)`),
  DEBIT: releasingDebit(events, ''),
  DEBIT_TO_HELD: releasingDebit(events, `
  AND EXISTS (SELECT 1 FROM users WHERE id = $1)
  AND ($5::text IS NULL OR EXISTS (SELECT 1 FROM users WHERE id = $5::text))`, true),
  INSERT_HOLD: standalone(events, HOLD_INSERT, HOLD_ALL, HOLD_CREATED),
  INSERT_HOLD_AND_FINISH: insertAndFinish(events, HOLD_INSERT, HOLD_ALL, HOLD_CREATED, 12, false),
  SETTLE_HOLD: settleHold(events),
  RELEASE_DUE_HOLDS: releaseDueHolds(events),
});

/** Built once per variant: the ledger picks one when it opens. */
export const WITHOUT_EVENTS = ledgerStatements(false);
export const WITH_EVENTS = ledgerStatements(true);

// The events-off statements by name, for the benchmark's raw runs and the plan checks.
export const { INSERT_TRANSACTION, DEBIT_PROFILE, RELEASE_DUE_HOLDS } = WITHOUT_EVENTS;
