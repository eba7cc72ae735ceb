// Classifies driver failures: which ones mean "the database is unreachable" (503,
// retry later) and which ones mean "this attempt was rolled back, run it again".
import { DomainError, InvalidRequest, ServiceUnavailable } from '../../core/errors';

const errorCode = (err: unknown): string | undefined => {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
};

/** The driver's SQLSTATE, when it has one. */
export const sqlState = errorCode;

/**
 * 3D000 invalid_catalog_name: the configured database does not exist. A pooler
 * (PgBouncer) reports the server's refusal as 08P01 with the same message.
 */
export const isMissingDatabase = (err: unknown): boolean => {
  const code = errorCode(err);
  if (code === '3D000') return true;
  const message = (err as { message?: unknown } | null)?.message;
  return code === '08P01' && typeof message === 'string' && /^database ".*" does not exist$/.test(message);
};

/** PostgreSQL unique_violation. */
export const isUniqueViolation = (err: unknown): boolean => errorCode(err) === '23505';
/** PostgreSQL check_violation on the named constraint. */
export const isCheckViolation = (err: unknown, constraint: string): boolean =>
  errorCode(err) === '23514' && (err as { constraint?: unknown }).constraint === constraint;

/** The server rolled the transaction back on its own: running it again is safe. */
export const isRetryableConflict = (err: unknown): boolean => {
  const code = errorCode(err);
  return code === '40001' || code === '40P01';
};

const NODE_NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ECONNABORTED',
]);
// Thrown by pg itself (no code) when a socket dies, a connect times out or the
// client-side query_timeout fires.
const PG_CONNECTION_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Query read timeout',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
  'Cannot use a pool after calling end on the pool',
  'connection failure during authentication',
];

/** The connection (not the statement) failed: the socket must not be reused. */
export const isConnectionError = (err: unknown): boolean => {
  // Duck-typed: socket errors may come from another realm (e.g. a test VM), failing instanceof Error.
  if (typeof err !== 'object' || err === null || err instanceof DomainError) return false;
  // Not transient: trying again at once cannot help (it is still a 503, below).
  if (isMissingDatabase(err)) return false;
  const code = errorCode(err);
  if (code !== undefined) {
    if (NODE_NETWORK_CODES.has(code)) return true;
    // 08xxx connection exception; 57P01-03 admin/crash shutdown, cannot connect now;
    // 53300 too many connections.
    if (code.startsWith('08') || ['57P01', '57P02', '57P03', '53300'].includes(code)) return true;
  }
  const message = (err as { message?: unknown }).message;
  return typeof message === 'string' && PG_CONNECTION_MESSAGES.some((m) => message.includes(m));
};

/** A ServiceUnavailable that keeps the driver's error as `cause` (for logs and `npm run migrate`). */
const unavailable = (cause: unknown): ServiceUnavailable => Object.assign(new ServiceUnavailable(), { cause });

/**
 * Domain errors pass through; unreachable or missing database → ServiceUnavailable;
 * text the database cannot store → InvalidRequest; anything else is a bug (500).
 */
export const translateError = (err: unknown): unknown => {
  if (err instanceof DomainError) return err;
  const code = errorCode(err);
  // 57014: statement_timeout fired (an overloaded or locked-up database).
  if (isConnectionError(err) || isRetryableConflict(err) || code === '57014' || isMissingDatabase(err)) return unavailable(err);
  // 22021 character_not_in_repertoire (a NUL or an invalid byte in text), 22P05
  // untranslatable_character (\u0000 in jsonb): second line of defence behind the
  // request validation; the caller's text is at fault, not the service.
  if (code === '22021' || code === '22P05') return new InvalidRequest('Text must be valid UTF-8 without NUL characters');
  return err;
};
