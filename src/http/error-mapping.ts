// The one place where a DomainError code becomes an HTTP status.
import { DomainError, ServiceUnavailable, RateLimited, type ErrorCode } from '../core/errors';
import { publicError, type PublicError } from './resources';

export const STATUS_BY_CODE: Record<ErrorCode, number> = {
  invalid_request: 400,
  unauthenticated: 401,
  payment_failed: 402,
  forbidden: 403,
  not_found: 404,
  user_exists: 409,
  idempotency_key_in_use: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  idempotency_key_reused: 422,
  insufficient_funds: 422,
  balance_limit_exceeded: 422,
  invalid_state_transition: 422,
  same_account_transfer: 422,
  hold_expired: 422,
  refund_exceeds_amount: 422,
  rate_limited: 429,
  internal_error: 500,
  payment_gateway_error: 502,
  service_unavailable: 503,
};

export interface ErrorResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: PublicError;
}

/** Errors whose meaning we do not know become a bare 500: no stack, SQL, host or secret leaves. */
export const toErrorResponse = (err: unknown, requestId: string): ErrorResponse => {
  const e = err instanceof DomainError ? err : new DomainError('internal_error', 'Something went wrong on our side');
  const headers: Record<string, string> = {};
  if (e instanceof ServiceUnavailable || e instanceof RateLimited) headers['Retry-After'] = String(e.retryAfterSeconds);
  if (e.replayed) headers['Idempotent-Replayed'] = 'true';
  return { statusCode: STATUS_BY_CODE[e.code], headers, body: publicError(e, requestId) };
};
