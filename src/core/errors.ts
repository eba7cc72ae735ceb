// The DomainError family. Each subclass carries the API contract's stable `code`;
// the HTTP status for each code lives in one place (src/http/error-mapping.ts).

export type ErrorCode =
  | 'invalid_request'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'user_exists'
  | 'idempotency_key_in_use'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'idempotency_key_reused'
  | 'insufficient_funds'
  | 'balance_limit_exceeded'
  | 'invalid_state_transition'
  | 'same_account_transfer'
  | 'hold_expired'
  | 'refund_exceeds_amount'
  | 'payment_failed'
  | 'rate_limited'
  | 'payment_gateway_error'
  | 'service_unavailable'
  | 'internal_error';

/** What an error looks like when it is stored as an idempotent outcome and replayed. */
export interface ErrorSnapshot {
  code: ErrorCode;
  message: string;
  param?: string;
  transactionId?: string;
}

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly param?: string,
    /** Extra top-level fields of the error object (e.g. `transactionId` for 402). */
    readonly transactionId?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }

  /** Set when this error is the stored outcome of an idempotency key, returned again. */
  replayed = false;

  /** The message callers see (subclasses may add context to it). */
  get publicMessage(): string {
    return this.message;
  }

  snapshot(): ErrorSnapshot {
    return {
      code: this.code,
      message: this.publicMessage,
      ...(this.param !== undefined && { param: this.param }),
      ...(this.transactionId !== undefined && { transactionId: this.transactionId }),
    };
  }

  static replay(s: ErrorSnapshot): DomainError {
    const e = new DomainError(s.code, s.message, s.param, s.transactionId);
    e.replayed = true;
    return e;
  }
}

export class InvalidRequest extends DomainError {
  constructor(message: string, param?: string) { super('invalid_request', message, param); }
}
export class Unauthenticated extends DomainError {
  constructor(message = 'Missing or invalid bearer token') { super('unauthenticated', message); }
}
export class Forbidden extends DomainError {
  constructor(message = 'You are not allowed to do this') { super('forbidden', message); }
}
export class NotFound extends DomainError {
  constructor(message = 'Not found', param?: string) { super('not_found', message, param); }
}
/** Also the answer for someone else's transaction: the two are indistinguishable. */
export class TransactionNotFound extends NotFound {
  constructor() { super('Transaction not found'); }
}
export class UserExists extends DomainError {
  constructor() { super('user_exists', 'A profile already exists for this user'); }
}
export class IdempotencyKeyInUse extends DomainError {
  constructor() {
    super('idempotency_key_in_use', 'A request with this Idempotency-Key is still being processed', 'Idempotency-Key');
  }
}
export class IdempotencyKeyReused extends DomainError {
  constructor() {
    super('idempotency_key_reused', 'This Idempotency-Key was used for a different request', 'Idempotency-Key');
  }
}
export class PayloadTooLarge extends DomainError {
  constructor(limit: number) { super('payload_too_large', `Request body exceeds ${limit} bytes`); }
}
export class UnsupportedMediaType extends DomainError {
  constructor() { super('unsupported_media_type', 'Request body must be sent as application/json', 'Content-Type'); }
}
export class InsufficientFunds extends DomainError {
  constructor() { super('insufficient_funds', 'The available balance does not cover this amount', 'amount'); }
}
/**
 * A credit would push a balance over MAX_BALANCE (the most every backend stores
 * exactly). Nothing moves; `message` names a deposit that was failed because of it.
 */
export class BalanceOverflow extends DomainError {
  constructor(message = 'The balance would exceed the maximum it can hold') {
    super('balance_limit_exceeded', message, 'amount');
  }
}
export class InvalidStateTransition extends DomainError {
  /**
   * `param` is `status` (a PATCH's field) unless given: an explicit `undefined` names no
   * input (a hold's or an original's state is at fault, not a field of the request).
   */
  constructor(from: string, to: string, what = 'transaction', ...param: [string | undefined] | []) {
    super('invalid_state_transition', `A ${from} ${what} cannot become ${to}`, param.length === 0 ? 'status' : param[0]);
  }
}
/** Also the answer for a hold the caller may not see. */
export class HoldNotFound extends NotFound {
  constructor() { super('Hold not found'); }
}
/** A capture or void of a hold past its expiresAt. */
export class HoldExpired extends DomainError {
  constructor() { super('hold_expired', 'The hold has expired; its money is available again'); }
}
export class RefundExceedsAmount extends DomainError {
  constructor(left: number) {
    super('refund_exceeds_amount', `Refunds would exceed the original amount (${left} left to refund)`, 'amount');
  }
}
export class SameAccountTransfer extends DomainError {
  constructor() { super('same_account_transfer', 'You cannot transfer to yourself', 'toUserId'); }
}
export class PaymentFailed extends DomainError {
  /** `param` is `paymentToken` (a deposit's) unless given: an explicit `undefined` names none (a refund has no token). */
  constructor(transactionId: string, message = 'The payment was declined', ...param: [string | undefined] | []) {
    super('payment_failed', message, param.length === 0 ? 'paymentToken' : param[0], transactionId);
  }
}
/**
 * The gateway's outcome is unknown. The pending deposit it leaves is named twice: as
 * `transactionId` in the error body (as for 402) and in the message callers see.
 */
export class PaymentGatewayError extends DomainError {
  /** `depositId`: the pending deposit — or, with `what: 'refund'`, the pending refund — the outcome leaves behind. */
  constructor(message: string, readonly depositId?: string, readonly what: 'deposit' | 'refund' = 'deposit') {
    super('payment_gateway_error', message, undefined, depositId);
  }

  override get publicMessage(): string {
    return this.depositId ? `${this.message}; ${this.what} ${this.depositId} stays pending — retry with the same Idempotency-Key` : this.message;
  }
}
export class ServiceUnavailable extends DomainError {
  constructor(message = 'A backing service is unavailable, try again shortly', readonly retryAfterSeconds = 5) {
    super('service_unavailable', message);
  }
}
export class RateLimited extends DomainError {
  constructor(readonly retryAfterSeconds = 1) { super('rate_limited', 'Too many requests'); }
}

/** 4xx outcomes are final for an idempotency key; 5xx outcomes let a retry run again. */
export const isFinalOutcome = (e: unknown): e is DomainError =>
  e instanceof DomainError &&
  !['service_unavailable', 'payment_gateway_error', 'internal_error', 'rate_limited', 'idempotency_key_in_use'].includes(e.code);
