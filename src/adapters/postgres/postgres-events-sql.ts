// The outbox in SQL. A statement that changes transactions or holds names the changed
// rows in a CTE; with events on, one more data-modifying CTE writes each row's event
// from the row as stored after the change: the same statement, so the same
// transaction and no extra round trip. The resource JSON is built here, field for
// field as toTransaction / toHold map a row, so the event carries what the ledger returns.
import type { EventType } from '../../core/events';

/** An ISO-8601 UTC time with milliseconds, as toIso writes it. */
const iso = (col: string): string => `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** toTransaction in SQL, over row `r`: optional fields only when set; refundedAmount on all but refunds. */
const transactionJson = (r: string): string => `jsonb_build_object(
    'id', ${r}.id, 'type', ${r}.type, 'status', ${r}.status, 'userId', ${r}.user_id, 'amount', ${r}.amount,
    'currency', ${r}.currency, 'metadata', ${r}.metadata, 'createdAt', ${iso(`${r}.created_at`)}, 'updatedAt', ${iso(`${r}.updated_at`)}
  ) || jsonb_strip_nulls(jsonb_build_object(
    'toUserId', ${r}.to_user_id, 'refundedAmount', CASE WHEN ${r}.type <> 'refund' THEN ${r}.refunded_amount END,
    'holdId', ${r}.hold_id, 'refundOf', ${r}.refund_of, 'paymentRef', ${r}.payment_ref))`;

/** toHold in SQL, over row `r`. */
const holdJson = (r: string): string => `jsonb_build_object(
    'id', ${r}.id, 'userId', ${r}.user_id, 'amount', ${r}.amount, 'currency', ${r}.currency,
    'capturedAmount', ${r}.captured_amount, 'status', ${r}.status, 'expiresAt', ${iso(`${r}.expires_at`)},
    'metadata', ${r}.metadata, 'createdAt', ${iso(`${r}.created_at`)}, 'updatedAt', ${iso(`${r}.updated_at`)}
  ) || jsonb_strip_nulls(jsonb_build_object('toUserId', ${r}.to_user_id, 'transactionId', ${r}.transaction_id))`;

/** Which event a changed row writes. Expressions are over the changed row, `r`. */
export interface Announcement {
  kind: 'transaction' | 'hold';
  /** The event type (an SQL expression). */
  type: string;
  /** The event's occurred_at (an SQL expression): the `now` of the step. */
  at: string;
}

const literal = (type: EventType): string => `'${type}'`;

/** A new transaction: transactionEventType(tx, true) at its creation. */
export const TX_CREATED: Announcement = { kind: 'transaction', type: `'transaction.' || r.status`, at: 'r.created_at' };
/** A settled transaction: its new status, at the settle's `now`. */
export const TX_SETTLED: Announcement = { kind: 'transaction', type: `'transaction.' || r.status`, at: 'r.updated_at' };
/** A change that leaves the status alone (metadata, refunded amount). */
export const TX_UPDATED: Announcement = { kind: 'transaction', type: literal('transaction.updated'), at: 'r.updated_at' };
/** A new hold (holdEventType: `hold.created`), at its creation. */
export const HOLD_CREATED: Announcement = { kind: 'hold', type: literal('hold.created'), at: 'r.created_at' };
/** A captured, voided or expired hold: its new status, at the step's `now` (an expiry's: expires_at). */
export const HOLD_SETTLED: Announcement = { kind: 'hold', type: `'hold.' || r.status`, at: 'r.updated_at' };

/** The resource JSON of row `r`, as the outbox keeps it (EventResource). */
export const resourceJson = (kind: Announcement['kind'], r: string): string =>
  `jsonb_build_object('kind', '${kind}', '${kind}', ${kind === 'hold' ? holdJson(r) : transactionJson(r)})`;

/** The CTE `<source>_events`: one event per row of CTE `source` (whose rows carry every column and `version`). */
export const eventsOf = (source: string, a: Announcement): string => `${source}_events AS (
  INSERT INTO outbox (id, type, occurred_at, version, resource)
  SELECT gen_random_uuid(), ${a.type}, ${a.at}, r.version, ${resourceJson(a.kind, 'r')}
  FROM ${source} r
  RETURNING id
)`;

/**
 * The CTE `name AS (change RETURNING …)` and, with `events` on, the CTE writing each
 * changed row's event. With events off the change returns only `minimal` and
 * nothing else is written; `all` is every column of the row plus `version`.
 */
export const changed = (events: boolean, name: string, change: string, minimal: string, all: string, a: Announcement): string =>
  events
    ? `${name} AS (${change} RETURNING ${all}),\n${eventsOf(name, a)}`
    : `${name} AS (${change} RETURNING ${minimal})`;

const EVENT_COLUMNS = 'seq, id, type, occurred_at, version, resource';

/**
 * Claims up to $1 entries whose lease is unset or over at $2, oldest seq first, for
 * $3 (lease until) and $4 (token). SKIP LOCKED: a concurrent relay's claim, still
 * uncommitted, is passed over rather than waited for; once it commits, its lease
 * (re-checked on the row's new version) keeps it out. The batch is collected into an
 * array first, so the UPDATE finds its rows on the primary key (an IN (subquery)
 * may be planned as a scan of the whole outbox).
 */
export const CLAIM_EVENTS = `
UPDATE outbox SET lease_until = $3::timestamptz, claim_token = $4
WHERE seq = ANY (ARRAY (
  SELECT seq FROM outbox
  WHERE lease_until IS NULL OR lease_until <= $2::timestamptz
  ORDER BY seq LIMIT $1
  FOR UPDATE SKIP LOCKED
))
RETURNING ${EVENT_COLUMNS}`;

/** Removes the published entries $1 (a comma-separated list of ids) still claimed with token $2. */
export const ACK_EVENTS = `
DELETE FROM outbox WHERE id = ANY (string_to_array($1::text, ',')::uuid[]) AND claim_token = $2`;

/** Two subqueries, so the oldest comes from outbox_occurred_at (one aggregate over both would scan for it). */
export const BACKLOG = 'SELECT (SELECT count(*) FROM outbox) AS count, (SELECT min(occurred_at) FROM outbox) AS oldest_at';
