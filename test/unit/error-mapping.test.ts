import {
  BalanceOverflow, DomainError, Forbidden, IdempotencyKeyInUse, IdempotencyKeyReused, InsufficientFunds, InvalidRequest, InvalidStateTransition,
  NotFound, PaymentFailed, PaymentGatewayError, PayloadTooLarge, RateLimited, SameAccountTransfer, ServiceUnavailable,
  Unauthenticated, UnsupportedMediaType, UserExists, type ErrorCode,
} from '../../src/core/errors';
import { STATUS_BY_CODE, toErrorResponse } from '../../src/http/error-mapping';

/** The status table of the API contract, copied by hand. */
const CONTRACT: Record<ErrorCode, number> = {
  invalid_request: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  user_exists: 409,
  idempotency_key_in_use: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  idempotency_key_reused: 422,
  insufficient_funds: 422,
  invalid_state_transition: 422,
  same_account_transfer: 422,
  hold_expired: 422,
  refund_exceeds_amount: 422,
  // An addition to the contract: a credit the balance cannot hold (above 2^53 - 1).
  balance_limit_exceeded: 422,
  payment_failed: 402,
  rate_limited: 429,
  payment_gateway_error: 502,
  service_unavailable: 503,
  internal_error: 500,
};

describe('error → HTTP mapping', () => {
  it('maps exactly the codes of the contract', () => {
    expect(Object.keys(STATUS_BY_CODE).sort()).toEqual(Object.keys(CONTRACT).sort());
  });

  it.each(Object.entries(CONTRACT) as [ErrorCode, number][])('%s → %i with the error shape', (code, status) => {
    const r = toErrorResponse(new DomainError(code, `message for ${code}`), 'req-1');
    expect(r.statusCode).toBe(status);
    expect(r.body).toEqual({ error: { code, message: `message for ${code}`, requestId: 'req-1' } });
  });

  it.each([
    [new InvalidRequest('x', 'amount'), 400, 'invalid_request'],
    [new Unauthenticated(), 401, 'unauthenticated'],
    [new Forbidden(), 403, 'forbidden'],
    [new NotFound(), 404, 'not_found'],
    [new UserExists(), 409, 'user_exists'],
    [new IdempotencyKeyInUse(), 409, 'idempotency_key_in_use'],
    [new PayloadTooLarge(16384), 413, 'payload_too_large'],
    [new UnsupportedMediaType(), 415, 'unsupported_media_type'],
    [new IdempotencyKeyReused(), 422, 'idempotency_key_reused'],
    [new InsufficientFunds(), 422, 'insufficient_funds'],
    [new BalanceOverflow(), 422, 'balance_limit_exceeded'],
    [new InvalidStateTransition('completed', 'failed'), 422, 'invalid_state_transition'],
    [new SameAccountTransfer(), 422, 'same_account_transfer'],
    [new PaymentFailed('tx-1'), 402, 'payment_failed'],
    [new RateLimited(), 429, 'rate_limited'],
    [new PaymentGatewayError('down'), 502, 'payment_gateway_error'],
    [new ServiceUnavailable(), 503, 'service_unavailable'],
  ])('%p → %i %s', (err, status, code) => {
    const r = toErrorResponse(err, 'req-2');
    expect(r.statusCode).toBe(status);
    expect(r.body.error.code).toBe(code);
    expect(r.body.error.requestId).toBe('req-2');
  });

  it('names the field in param and only the 402 carries transactionId', () => {
    expect(toErrorResponse(new InvalidRequest('bad', 'amount'), 'r').body.error.param).toBe('amount');
    expect(toErrorResponse(new NotFound('nope'), 'r').body.error).not.toHaveProperty('param');
    // A PATCH's status is at fault; a hold's or an original transaction's state is not an input.
    expect(toErrorResponse(new InvalidStateTransition('completed', 'failed'), 'r').body.error.param).toBe('status');
    expect(toErrorResponse(new InvalidStateTransition('captured', 'voided', 'hold', undefined), 'r').body.error).not.toHaveProperty('param');
    const declined = toErrorResponse(new PaymentFailed('0190aaaa-0000-7000-8000-000000000001'), 'r').body.error;
    expect(declined.transactionId).toBe('0190aaaa-0000-7000-8000-000000000001');
    expect(declined.param).toBe('paymentToken');
    expect(toErrorResponse(new PaymentFailed('0190aaaa-0000-7000-8000-000000000001', 'refund declined', undefined), 'r').body.error).not.toHaveProperty('param');
    expect(toErrorResponse(new InsufficientFunds(), 'r').body.error).not.toHaveProperty('transactionId');
  });

  it('sends Retry-After on 503 and 429', () => {
    expect(toErrorResponse(new ServiceUnavailable('down', 7), 'r').headers['Retry-After']).toBe('7');
    expect(toErrorResponse(new ServiceUnavailable(), 'r').headers['Retry-After']).toMatch(/^\d+$/);
    expect(toErrorResponse(new RateLimited(3), 'r').headers['Retry-After']).toBe('3');
    expect(toErrorResponse(new InsufficientFunds(), 'r').headers).not.toHaveProperty('Retry-After');
  });

  it('marks replayed errors with Idempotent-Replayed and keeps their body', () => {
    const original = new InsufficientFunds();
    const replayed = DomainError.replay(original.snapshot());
    const r = toErrorResponse(replayed, 'r2');
    expect(r.statusCode).toBe(422);
    expect(r.headers['Idempotent-Replayed']).toBe('true');
    expect(r.body.error).toEqual({ code: 'insufficient_funds', message: original.message, param: 'amount', requestId: 'r2' });
    const declined = toErrorResponse(DomainError.replay(new PaymentFailed('tx-9').snapshot()), 'r3');
    expect(declined.statusCode).toBe(402);
    expect(declined.body.error.transactionId).toBe('tx-9');
    expect(declined.headers['Idempotent-Replayed']).toBe('true');
    expect(toErrorResponse(original, 'r').headers).not.toHaveProperty('Idempotent-Replayed');
  });

  it.each([
    ['an Error with internals', new Error('connect ECONNREFUSED db.internal:5432 password=hunter2')],
    ['a TypeError', new TypeError("Cannot read properties of undefined (reading 'balance')")],
    ['a string', 'SELECT * FROM users WHERE id = 1'],
    ['null', null],
    ['undefined', undefined],
    ['an object with statusCode', { statusCode: 400, message: 'looks like a 400' }],
  ])('turns %s into a bare 500 internal_error without leaking it', (_label, err) => {
    const r = toErrorResponse(err, 'req-x');
    expect(r.statusCode).toBe(500);
    expect(r.body.error.code).toBe('internal_error');
    expect(Object.keys(r.body.error).sort()).toEqual(['code', 'message', 'requestId']);
    const text = JSON.stringify(r);
    for (const leak of ['hunter2', 'db.internal', 'ECONNREFUSED', 'SELECT', 'balance', 'looks like', ' at ']) {
      expect(text).not.toContain(leak);
    }
  });
});
