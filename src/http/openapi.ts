// GET /openapi.json, generated from the same zod schemas the handlers validate with.
// Schemas named in schemas.ts become `components.schemas` and are referenced by
// `$ref`, so a generated client gets named types. The checked-in openapi.json is
// this document (`npm run openapi`; test/unit/openapi-document.test.ts checks it).
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import * as z from 'zod/mini';
import {
  BalanceOverflow, Forbidden, HoldExpired, HoldNotFound, IdempotencyKeyInUse, IdempotencyKeyReused, InsufficientFunds, InvalidRequest, InvalidStateTransition, NotFound,
  PayloadTooLarge, PaymentFailed, PaymentGatewayError, SameAccountTransfer, ServiceUnavailable, TransactionNotFound, Unauthenticated,
  UnsupportedMediaType, UserExists, type DomainError, type ErrorCode,
} from '../core/errors';
import { holdRefusal, MAX_HOLD_SECONDS } from '../core/hold';
import { refundRefusal, type Transaction } from '../core/transaction';
import { refundDeclined, refundForbidden } from '../core/use-cases/create-refund';
import { creditRefused } from '../core/use-cases/credit-refused';
import { payeeOnly } from '../core/use-cases/hold-access';
import { profileNotFound } from '../core/user';
import { publicError } from './resources';
import { logRequest } from './middleware/request-log';
import { requestIdOf, respond } from './middleware/request-context';
import * as s from './schemas';
import { WEBHOOK_TOLERANCE_SECONDS } from './webhook-signature';

const SCHEMAS = '#/components/schemas/';
const ref = (id: string) => ({ $ref: `${SCHEMAS}${id}` });

/** Every schema named in the zod registry, as JSON Schema, cross-referenced by `$ref`. */
const componentSchemas = (): Record<string, unknown> => {
  const { schemas } = z.toJSONSchema(z.globalRegistry, {
    target: 'draft-2020-12', io: 'output', unrepresentable: 'any', uri: (id) => `${SCHEMAS}${id}`,
  });
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(schemas).sort()) {
    const { $schema: _schema, $id: _id, ...rest } = schemas[name] as Record<string, unknown>;
    out[name] = rest;
  }
  return out;
};

// --- examples (each one valid against its schema: the lint checks them) ---
const ALICE = 'alice';
const BOB = 'bob';
const AT = '2026-01-15T09:30:00.000Z';
const LATER = '2026-01-15T09:35:00.000Z';
const DEPOSIT_ID = '01943a6c-6f1e-7a52-9b1c-3d5e7f9a0b1c';
const TRANSFER_ID = '01943a6d-0a2b-7c3d-8e4f-5a6b7c8d9e0f';
const HOLD_ID = '01943a70-2c3d-7e4f-8a5b-6c7d8e9f0a1b';
const CAPTURE_ID = '01943a72-3d4e-7f50-9b6c-7d8e9f0a1b2c';
const REFUND_ID = '01943a75-4e5f-7061-8c7d-8e9f0a1b2c3d';
const REQUEST_ID = 'c0a8012e-5f4b-4d7a-9a51-2b3c4d5e6f70';
const EXPIRES = '2026-01-15T10:30:00.000Z';

const user = { id: ALICE, email: 'alice@example.com', name: 'Alice', createdAt: AT, balances: [{ currency: 'USD', available: 750, held: 0 }] };
const deposit = {
  id: DEPOSIT_ID, type: 'deposit', status: 'completed', userId: ALICE, amount: 1050, currency: 'USD',
  metadata: { orderId: 'A-1001' }, createdAt: AT, updatedAt: AT, refundedAmount: 0,
};
const pendingDeposit = { ...deposit, status: 'pending', metadata: {} };
const settledDeposit = { ...deposit, status: 'completed', metadata: {}, updatedAt: LATER };
const withdrawal = { ...deposit, id: '01943a6e-1b2c-7d3e-9f40-6b7c8d9e0f1a', type: 'withdrawal', amount: 200, metadata: {} };
const transfer = {
  id: TRANSFER_ID, type: 'transfer', status: 'completed', userId: ALICE, toUserId: BOB, amount: 300, currency: 'USD',
  metadata: { note: 'lunch' }, createdAt: LATER, updatedAt: LATER, refundedAmount: 0,
};
const hold = {
  id: HOLD_ID, userId: ALICE, toUserId: BOB, amount: 250, currency: 'USD', capturedAmount: 0, status: 'held',
  expiresAt: EXPIRES, metadata: { order: 'B-7' }, createdAt: AT, updatedAt: AT,
};
const capture = {
  id: CAPTURE_ID, type: 'transfer', status: 'completed', userId: ALICE, toUserId: BOB, amount: 200, currency: 'USD',
  metadata: {}, createdAt: LATER, updatedAt: LATER, refundedAmount: 0, holdId: HOLD_ID,
};
const capturedHold = { ...hold, status: 'captured', capturedAmount: 200, transactionId: CAPTURE_ID, updatedAt: LATER };
const voidedHold = { ...hold, status: 'voided', updatedAt: LATER };
const refund = {
  id: REFUND_ID, type: 'refund', status: 'completed', userId: BOB, toUserId: ALICE, amount: 100, currency: 'USD',
  metadata: { reason: 'returned' }, createdAt: LATER, updatedAt: LATER, refundOf: TRANSFER_ID,
};
const pendingRefund = { ...refund, userId: ALICE, status: 'pending', refundOf: DEPOSIT_ID, metadata: {} };
/** Refusals exactly as the core decides them, from example states. */
const capturedState = { status: 'captured' as const, expiresAt: EXPIRES };
const refundedTransfer = { ...transfer, refundedAmount: 200 } as Transaction;

type Examples = Record<string, { summary?: string; value: unknown }>;

/** An error example from the error the code really throws, mapped as every response is: it cannot drift. */
const example = (e: DomainError) => ({ value: publicError(e, REQUEST_ID) });

const errorBody = (code: ErrorCode, message: string, extra: { param?: string; transactionId?: string } = {}) => ({
  value: {
    error: {
      code,
      message,
      ...(extra.param !== undefined && { param: extra.param }),
      requestId: REQUEST_ID,
      ...(extra.transactionId !== undefined && { transactionId: extra.transactionId }),
    },
  },
});

// --- response headers ---
const HEADERS = {
  RequestId: { description: 'The request id (also in the error body and the logs)', required: true, schema: { type: 'string' }, example: REQUEST_ID },
  IdempotentReplayed: {
    description: '`true` when this is the stored answer to an earlier request with the same Idempotency-Key; absent otherwise',
    schema: { type: 'string', enum: ['true'] }, example: 'true',
  },
  RetryAfter: { description: 'Seconds to wait before retrying', schema: { type: 'integer', minimum: 0 }, example: 5 },
};
const header = (name: keyof typeof HEADERS) => ({ $ref: `#/components/headers/${name}` });
type Headers = Record<string, { $ref: string }>;
const requestIdOnly: Headers = { 'x-request-id': header('RequestId') };
const replayable: Headers = { ...requestIdOnly, 'Idempotent-Replayed': header('IdempotentReplayed') };
const retryable: Headers = { ...requestIdOnly, 'Retry-After': header('RetryAfter') };

const json = (schema: unknown, examples: Examples) => ({ 'application/json': { schema, examples } });
const success = (description: string, id: string, examples: Examples, headers: Headers = requestIdOnly) =>
  ({ description, headers, content: json(ref(id), examples) });
const failure = (description: string, examples: Examples, headers: Headers = requestIdOnly) =>
  ({ description, headers, content: json(ref('Error'), examples) });

// --- reusable responses ---
const RESPONSES = {
  Unauthenticated: failure('The bearer token is missing, malformed, expired or badly signed', { unauthenticated: example(new Unauthenticated()) }),
  Forbidden: failure('The caller may not act on this resource', { forbidden: example(new Forbidden()) }),
  PayloadTooLarge: failure('The body is over 16 KiB', { payload_too_large: example(new PayloadTooLarge(16 * 1024)) }),
  UnsupportedMediaType: failure('The body was sent with a content type other than JSON', {
    unsupported_media_type: example(new UnsupportedMediaType()),
  }),
  Throttled: {
    description: 'Throttled by API Gateway (deployed stages): its own body, not the error shape',
    content: json(ref('GatewayThrottled'), { throttled: { value: { message: 'Too Many Requests' } } }),
  },
  InternalError: failure('Something unexpected failed; the body never carries internals', { internal_error: errorBody('internal_error', 'Something went wrong on our side') }),
  ServiceUnavailable: failure('Storage (or the app secret) is unreachable; retry after Retry-After seconds', {
    service_unavailable: example(new ServiceUnavailable()),
  }, retryable),
};
const response = (name: keyof typeof RESPONSES) => ({ $ref: `#/components/responses/${name}` });
const always = { '429': response('Throttled'), '500': response('InternalError'), '503': response('ServiceUnavailable') };
const authenticated = { '401': response('Unauthenticated'), ...always };
const withBody = { '413': response('PayloadTooLarge'), '415': response('UnsupportedMediaType') };

// --- parameters ---
const idParam = (description: string, example: string) => ({ name: 'id', in: 'path', required: true, description, schema: { type: 'string' }, example });
const userId = idParam("User id: the `sub` of that user's token", ALICE);
const transactionId = idParam('Transaction id (a malformed id is a 404)', DEPOSIT_ID);
const holdId = idParam('Hold id (a malformed id is a 404)', HOLD_ID);
const idempotencyKey = {
  name: 'Idempotency-Key', in: 'header', required: false,
  description: 'Makes the request safe to retry: the same key with the same body returns the first answer again '
    + '(marked `Idempotent-Replayed: true`) without moving money twice; another body is a 422, a request still in flight a 409. '
    + 'Kept at least 24 hours, per caller: use a new key for each new operation.',
  schema: { type: 'string', pattern: '^[\\x20-\\x7e]{1,255}$' }, example: 'dep-2026-01-15-001',
};
type QueryDocs = Record<string, { description: string; example: unknown; default?: unknown; ref?: string }>;
const PAGING: QueryDocs = {
  limit: { description: 'Page size', example: 20, default: 20 },
  cursor: { description: 'The `nextCursor` of the previous page (opaque; a tampered cursor, or one of another listing, is a 400)', example: 'eyJjIjoiMjAyNi0wMS0xNVQwOTozMDowMC4wMDBaIn0.sig' },
};
// Filters share their values with the resource's own fields: referenced, so clients share the type.
const TRANSACTION_QUERY: QueryDocs = {
  ...PAGING,
  type: { description: 'Only this type', example: 'transfer', ref: 'TransactionType' },
  status: { description: 'Only this status', example: 'completed', ref: 'TransactionStatus' },
};
const HOLD_QUERY: QueryDocs = {
  ...PAGING,
  status: { description: 'Only holds in this status (`expired` includes those past `expiresAt` not yet released)', example: 'held', ref: 'HoldStatus' },
};
/** A listing's query parameters, as the handler reads them (`limit` after its string → integer step). */
const queryParams = (query: z.ZodMiniType, docs: QueryDocs) => {
  const { properties = {} } = z.toJSONSchema(query, { target: 'draft-2020-12', io: 'output', unrepresentable: 'any' }) as { properties?: Record<string, object> };
  return Object.entries(properties).map(([name, schema]) => {
    const { description, example, default: byDefault, ref: named } = docs[name] ?? { description: name, example: undefined };
    return { name, in: 'query', required: false, description, schema: { ...(named ? ref(named) : schema), ...(byDefault !== undefined && { default: byDefault }) }, example };
  });
};

const body = (id: string, examples: Examples) => ({ required: true, content: json(ref(id), examples) });

const OPENAPI_SCHEMA = {
  type: 'object',
  description: 'An OpenAPI 3.1 document',
  properties: {
    openapi: { type: 'string' },
    info: {
      type: 'object',
      properties: { title: { type: 'string' }, version: { type: 'string' }, description: { type: 'string' } },
      required: ['title', 'version'],
      additionalProperties: true,
    },
    servers: { type: 'array', items: { type: 'object', properties: { url: { type: 'string' } }, required: ['url'], additionalProperties: true } },
    paths: { type: 'object', additionalProperties: { type: 'object', additionalProperties: true } },
    components: { type: 'object', additionalProperties: { type: 'object', additionalProperties: true } },
  },
  required: ['openapi', 'info', 'paths'],
  additionalProperties: true,
};

const INVALID_AMOUNT = errorBody('invalid_request', 'amount must be an integer number of minor units from 1 to 100000000000', { param: 'amount' });
const KEY_IN_USE = failure('A request with this Idempotency-Key is still in flight', {
  idempotency_key_in_use: example(new IdempotencyKeyInUse()),
});
const KEY_REUSED = example(new IdempotencyKeyReused());
const NO_PROFILE = failure('The user has no profile', { not_found: example(profileNotFound()) }, replayable);
const NO_HOLD = failure('No such hold, or not visible to the caller (only its payer, its payee and admins see it)', { not_found: example(new HoldNotFound()) }, replayable);
const PAYEE_ONLY = failure('The payer of a hold that has a payee: only the payee (or an admin) captures or voids it', { forbidden: example(payeeOnly()) }, replayable);
const HOLD_STATE = {
  hold_expired: example(new HoldExpired()),
  invalid_state_transition: example(holdRefusal(capturedState, 'voided', EXPIRES) as DomainError),
};

const webhookSignature = {
  name: 'Webhook-Signature', in: 'header', required: true,
  description: '`t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" keyed with PAYMENT_WEBHOOK_SECRET>`, computed over the body '
    + `bytes exactly as sent. Several \`v1=\` may be given (secret rotation): one must match. \`t\` may be at most ${WEBHOOK_TOLERANCE_SECONDS} s from now.`,
  schema: { type: 'string', minLength: 1 },
  example: 't=1768469400,v1=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39',
};
const paymentEvent = {
  id: 'evt_1Qx7f2c9a4b8', type: 'payment.succeeded', data: { depositId: DEPOSIT_ID, paymentRef: 'pay_8d1f0c2a9e7b4d3c' },
};

const build = () => ({
  openapi: '3.1.0',
  info: {
    title: 'Wallet API',
    version: '1.0.0',
    description: 'Balances per currency in integer minor units (1050 USD = 10.50 USD); deposits through a payment gateway, '
      + 'withdrawals, transfers between users, holds (authorize now, capture or void later), refunds, paged history; '
      + 'admins settle pending transactions. '
      + 'Money-moving requests accept an Idempotency-Key. Errors share one body: `{"error":{"code","message","param"?,"requestId"}}`.',
    license: { name: 'MIT', identifier: 'MIT' },
  },
  // Relative: the API's root is where this document is served (http://localhost:3000
  // under `npm start`, the stage's URL when deployed).
  servers: [{ url: '/', description: 'The origin serving this document' }],
  security: [{ bearer: [] }],
  tags: [
    { name: 'service', description: 'Health and this document (no token needed)' },
    { name: 'users', description: 'Profiles and balances' },
    { name: 'money', description: 'Deposits, withdrawals and transfers' },
    { name: 'transactions', description: 'Reading, listing and settling transactions' },
    { name: 'webhooks', description: 'Events from the payment gateway (signed, no token)' },
    { name: 'holds', description: 'Money set aside now (available → held), captured, voided or expired later' },
    { name: 'refunds', description: 'Giving back all or part of a completed deposit, withdrawal or transfer' },
  ],
  paths: {
    '/health': {
      get: {
        operationId: 'getHealth', tags: ['service'], security: [], summary: 'Storage health',
        responses: {
          '200': success('Storage answers', 'Health', { ok: { value: { status: 'ok' } } }),
          '429': response('Throttled'),
          '503': success('Storage is down (this shape, not the error body)', 'Health', { unavailable: { value: { status: 'unavailable' } } }, retryable),
        },
      },
    },
    '/openapi.json': {
      get: {
        operationId: 'getOpenApiDocument', tags: ['service'], security: [], summary: 'This document',
        responses: {
          '200': {
            description: 'The OpenAPI 3.1 document of this API', headers: requestIdOnly,
            content: json(ref('OpenApiDocument'), {
              document: { summary: 'Abridged', value: { openapi: '3.1.0', info: { title: 'Wallet API', version: '1.0.0' }, paths: {} } },
            }),
          },
          ...always,
        },
      },
    },
    '/users': {
      post: {
        operationId: 'createUser', tags: ['users'], summary: "Create the caller's profile",
        description: "The new user's id is the token's `sub`; balances start empty.",
        requestBody: body('CreateUserRequest', { alice: { value: { email: 'alice@example.com', name: 'Alice' } } }),
        responses: {
          '201': success('Created', 'User', { created: { value: { ...user, balances: [] } } }),
          '400': failure('Invalid body', {
            invalid_email: errorBody('invalid_request', 'email: Invalid email address', { param: 'email' }),
            unknown_field: errorBody('invalid_request', 'Unknown field: id', { param: 'id' }),
          }),
          '409': failure('The caller already has a profile', { user_exists: example(new UserExists()) }),
          ...withBody, ...authenticated,
        },
      },
    },
    '/users/{id}': {
      get: {
        operationId: 'getUser', tags: ['users'], summary: 'A user with balances', description: 'The owner or an admin.',
        parameters: [userId],
        responses: {
          '200': success('The user', 'User', { alice: { value: user } }),
          '403': response('Forbidden'),
          '404': failure('No such user', { not_found: example(profileNotFound()) }),
          ...authenticated,
        },
      },
    },
    '/users/{id}/deposits': {
      post: {
        operationId: 'createDeposit', tags: ['money'], summary: 'Deposit through the payment gateway',
        description: 'The owner only. The gateway charges `paymentToken`: succeeded → `completed` and credited; pending → `pending`, '
          + 'credited when settled (reconciliation or an admin PATCH); declined → `failed` and a 402.',
        parameters: [userId, idempotencyKey],
        requestBody: body('DepositRequest', {
          ok: { summary: 'Completes at once', value: { amount: 1050, currency: 'USD', paymentToken: 'tok_ok', metadata: { orderId: 'A-1001' } } },
          pending: { summary: 'Stays pending until settled', value: { amount: 1050, currency: 'USD', paymentToken: 'tok_pending' } },
        }),
        responses: {
          '201': success('The deposit (`completed` or `pending`)', 'Transaction', { completed: { value: deposit }, pending: { value: pendingDeposit } }, replayable),
          '400': failure('Invalid body or Idempotency-Key', {
            amount: INVALID_AMOUNT,
            currency: errorBody('invalid_request', 'currency must be one of USD, EUR, GBP, JPY, CHF, CAD, AUD', { param: 'currency' }),
          }),
          '402': failure('The gateway declined the payment; the failed deposit is named', {
            payment_failed: example(new PaymentFailed(DEPOSIT_ID)),
          }, replayable),
          '403': response('Forbidden'),
          '404': NO_PROFILE,
          '409': KEY_IN_USE,
          '422': failure('The balance could not hold the deposit, or the Idempotency-Key was used with another request', {
            balance_limit_exceeded: example(new BalanceOverflow()),
            idempotency_key_reused: KEY_REUSED,
          }, replayable),
          '502': failure('The gateway failed or its answer is unknown; the deposit stays pending and a retry with the same key resumes it', {
            payment_gateway_error: example(new PaymentGatewayError('The payment gateway did not answer in time', DEPOSIT_ID)),
          }),
          ...withBody, ...authenticated,
        },
      },
    },
    '/users/{id}/withdrawals': {
      post: {
        operationId: 'createWithdrawal', tags: ['money'], summary: 'Withdraw',
        description: 'The owner only. Debits only if the available balance covers the amount; nothing is stored otherwise.',
        parameters: [userId, idempotencyKey],
        requestBody: body('WithdrawalRequest', { withdraw: { value: { amount: 200, currency: 'USD' } } }),
        responses: {
          '201': success('The withdrawal, `completed`', 'Transaction', { completed: { value: withdrawal } }, replayable),
          '400': failure('Invalid body or Idempotency-Key', { amount: INVALID_AMOUNT }),
          '403': response('Forbidden'),
          '404': NO_PROFILE,
          '409': KEY_IN_USE,
          '422': failure('Not enough money, or the Idempotency-Key was used with another request', {
            insufficient_funds: example(new InsufficientFunds()),
            idempotency_key_reused: KEY_REUSED,
          }, replayable),
          ...withBody, ...authenticated,
        },
      },
    },
    '/transfers': {
      post: {
        operationId: 'createTransfer', tags: ['money'], summary: 'Transfer to another user',
        description: 'From the caller to `toUserId`, in one atomic step; one transaction in both histories.',
        parameters: [idempotencyKey],
        requestBody: body('TransferRequest', { lunch: { value: { toUserId: BOB, amount: 300, currency: 'USD', metadata: { note: 'lunch' } } } }),
        responses: {
          '201': success('The transfer, `completed`', 'Transaction', { completed: { value: transfer } }, replayable),
          '400': failure('Invalid body or Idempotency-Key', { amount: INVALID_AMOUNT }),
          '404': failure('The caller or the recipient has no profile', { recipient: example(profileNotFound('toUserId')) }, replayable),
          '409': KEY_IN_USE,
          '422': failure('Not enough money, a transfer to oneself, a recipient whose balance cannot hold it, or the Idempotency-Key was used with another request', {
            insufficient_funds: example(new InsufficientFunds()),
            same_account_transfer: example(new SameAccountTransfer()),
            balance_limit_exceeded: example(new BalanceOverflow()),
            idempotency_key_reused: KEY_REUSED,
          }, replayable),
          ...withBody, ...authenticated,
        },
      },
    },
    '/transactions/{id}': {
      get: {
        operationId: 'getTransaction', tags: ['transactions'], summary: 'A transaction the caller is party to',
        description: 'A party (owner, sender or recipient) or an admin; anyone else gets a 404.',
        parameters: [transactionId],
        responses: {
          '200': success('The transaction', 'Transaction', { transfer: { value: transfer } }),
          '404': failure('No such transaction, or not visible to the caller', { not_found: example(new TransactionNotFound()) }),
          ...authenticated,
        },
      },
      patch: {
        operationId: 'updateTransaction', tags: ['transactions'], summary: 'Admin: settle a pending transaction or replace its metadata',
        description: 'Only `pending` → `completed` or `failed`; completing a pending deposit credits it in the same step. '
          + '`metadata` alone may be replaced in any status.',
        parameters: [transactionId],
        requestBody: body('UpdateTransactionRequest', {
          settle: { summary: 'Settle a pending deposit', value: { status: 'completed' } },
          metadata: { summary: 'Replace metadata', value: { metadata: { ticket: 'OPS-42' } } },
        }),
        responses: {
          '200': success('The updated transaction', 'Transaction', { settled: { value: settledDeposit } }),
          '400': failure('Invalid body', { status: errorBody('invalid_request', 'status must be one of pending, completed, failed', { param: 'status' }) }),
          '403': response('Forbidden'),
          '404': failure('No such transaction', { not_found: example(new TransactionNotFound()) }),
          '422': failure('The status change is not pending → completed / failed, or a deposit completed past the balance limit (now failed)', {
            invalid_state_transition: example(new InvalidStateTransition('completed', 'failed')),
            balance_limit_exceeded: example(creditRefused({ ...pendingDeposit, status: 'failed' } as Transaction)),
          }),
          ...withBody, ...authenticated,
        },
      },
    },
    '/users/{id}/transactions': {
      get: {
        operationId: 'listTransactions', tags: ['transactions'], summary: 'History, newest first',
        description: 'The owner or an admin. Keyset pagination: pass `nextCursor` back as `cursor` until it is null; '
          + 'concurrent inserts never make a page repeat or skip an older item.',
        parameters: [userId, ...queryParams(s.listQuery, TRANSACTION_QUERY)],
        responses: {
          '200': success('One page', 'TransactionPage', { page: { value: { data: [transfer, deposit], nextCursor: null } } }),
          '400': failure('A bad query parameter', {
            limit: errorBody('invalid_request', 'limit must be an integer from 1 to 100', { param: 'limit' }),
            cursor: errorBody('invalid_request', 'cursor is invalid', { param: 'cursor' }),
          }),
          '403': response('Forbidden'),
          '404': failure('No such user', { not_found: example(profileNotFound()) }),
          ...authenticated,
        },
      },
    },
    '/webhooks/payments': {
      post: {
        operationId: 'receivePaymentWebhook', tags: ['webhooks'], security: [], summary: 'The payment gateway: a deposit or refund has settled',
        description: 'Authenticated by its signature, not a token; without PAYMENT_WEBHOOK_SECRET configured the route does not exist (404). '
          + 'The body only names the transaction: the service asks the gateway for its current status and settles a pending deposit '
          + 'or refund from that answer, atomically, before answering 200. Duplicates, reordered events, unknown or already settled '
          + 'transactions, unknown types and unusable data are answered 200 and change nothing more; unknown fields are ignored.',
        parameters: [webhookSignature],
        requestBody: body('PaymentWebhookEvent', {
          succeeded: { summary: 'A deposit was paid', value: paymentEvent },
          failed: { summary: 'A deposit was declined', value: { ...paymentEvent, id: 'evt_1Qx7f3d0b5c9', type: 'payment.failed' } },
        }),
        responses: {
          '200': success('Handled: settled from the gateway\'s answer, or nothing to do', 'WebhookReceipt', { received: { value: { received: true } } }),
          '400': failure('The signature is valid but the body is not a JSON object', {
            invalid_request: example(new InvalidRequest('The body must be a JSON object')),
          }),
          '401': failure(`The signature is missing, malformed or wrong, or its t is more than ${WEBHOOK_TOLERANCE_SECONDS} s from now; nothing changed`, {
            unauthenticated: example(new Unauthenticated('Missing or invalid Webhook-Signature')),
          }),
          '404': failure('No PAYMENT_WEBHOOK_SECRET is configured: the route does not exist', { not_found: example(new NotFound('No such route')) }),
          '413': response('PayloadTooLarge'),
          '429': response('Throttled'),
          '500': response('InternalError'),
          '503': failure('The gateway or storage is unreachable; nothing changed: deliver the event again after Retry-After seconds', {
            service_unavailable: example(new ServiceUnavailable('The payment gateway is unavailable, try again shortly')),
          }, retryable),
        },
      },
    },
    '/users/{id}/holds': {
      post: {
        operationId: 'createHold', tags: ['holds'], summary: 'Hold money for a later capture',
        description: 'The owner only. Moves `amount` from `available` to `held` in one atomic step; nothing is stored when the '
          + `available balance does not cover it. \`toUserId\` names the payee a capture credits (without one, a capture is a withdrawal). `
          + `The hold expires after \`expiresInSeconds\` (1 to ${MAX_HOLD_SECONDS}, default 3600): from then on its money is available again.`,
        parameters: [userId, idempotencyKey],
        requestBody: body('CreateHoldRequest', {
          payee: { summary: 'For a payee, 30 minutes', value: { amount: 250, currency: 'USD', toUserId: BOB, expiresInSeconds: 1800, metadata: { order: 'B-7' } } },
          own: { summary: 'Without a payee (a capture withdraws)', value: { amount: 250, currency: 'USD' } },
        }),
        responses: {
          '201': success('The hold, `held`', 'Hold', { held: { value: hold } }, replayable),
          '400': failure('Invalid body or Idempotency-Key', {
            amount: INVALID_AMOUNT,
            expiresInSeconds: errorBody('invalid_request', `expiresInSeconds: must be an integer number of seconds from 1 to ${MAX_HOLD_SECONDS}`, { param: 'expiresInSeconds' }),
          }),
          '403': response('Forbidden'),
          '404': failure('The payer or the payee has no profile', { payee: example(profileNotFound('toUserId')) }, replayable),
          '409': KEY_IN_USE,
          '422': failure('Not enough money, a hold to oneself, or the Idempotency-Key was used with another request', {
            insufficient_funds: example(new InsufficientFunds()),
            same_account_transfer: example(new SameAccountTransfer()),
            idempotency_key_reused: KEY_REUSED,
          }, replayable),
          ...withBody, ...authenticated,
        },
      },
      get: {
        operationId: 'listHolds', tags: ['holds'], summary: 'The holds a user pays, newest first',
        description: 'The owner or an admin. Paged like the transaction history; a hold past `expiresAt` is listed as `expired`.',
        parameters: [userId, ...queryParams(s.listHoldsQuery, HOLD_QUERY)],
        responses: {
          '200': success('One page', 'HoldPage', { page: { value: { data: [capturedHold], nextCursor: null } } }),
          '400': failure('A bad query parameter', {
            status: errorBody('invalid_request', 'status: must be one of held, captured, voided, expired', { param: 'status' }),
            cursor: errorBody('invalid_request', 'cursor is invalid or was issued for another listing', { param: 'cursor' }),
          }),
          '403': response('Forbidden'),
          '404': failure('No such user', { not_found: example(profileNotFound()) }),
          ...authenticated,
        },
      },
    },
    '/holds/{id}': {
      get: {
        operationId: 'getHold', tags: ['holds'], summary: 'A hold',
        description: 'Its payer, its payee or an admin; anyone else gets a 404. A hold past `expiresAt` reads as `expired` '
          + '(its `updatedAt` is then `expiresAt`) and holds no money, whether or not it was released yet.',
        parameters: [holdId],
        responses: {
          '200': success('The hold', 'Hold', { held: { value: hold }, captured: { value: capturedHold } }),
          '404': failure('No such hold, or not visible to the caller', { not_found: example(new HoldNotFound()) }),
          ...authenticated,
        },
      },
    },
    '/holds/{id}/capture': {
      post: {
        operationId: 'captureHold', tags: ['holds'], summary: 'Capture a hold, in whole or in part',
        description: 'Its payee (its payer when it has none) or an admin. In one atomic step: `amount` (default: the whole hold) leaves '
          + '`held`, the rest returns to `available`, and a `completed` transaction naming the hold is stored: a transfer to the payee, '
          + 'or a withdrawal without one. The hold becomes `captured`. Of racing captures and voids one wins; the others get a 422.',
        parameters: [holdId, idempotencyKey],
        requestBody: body('CaptureHoldRequest', {
          partial: { summary: 'Capture part of it', value: { amount: 200 } },
          whole: { summary: 'Capture all of it', value: {} },
        }),
        responses: {
          '201': success('The capture, `completed`', 'Transaction', { capture: { value: capture } }, replayable),
          '400': failure('Invalid body or Idempotency-Key, or an amount above the hold', {
            amount: errorBody('invalid_request', "amount must be an integer number of minor units from 1 to the hold's 250", { param: 'amount' }),
          }),
          '403': PAYEE_ONLY,
          '404': NO_HOLD,
          '409': KEY_IN_USE,
          '422': failure('The hold expired or is no longer `held`, the payee\'s balance cannot take it, or the Idempotency-Key was used with another request', {
            ...HOLD_STATE,
            balance_limit_exceeded: example(new BalanceOverflow()),
            idempotency_key_reused: KEY_REUSED,
          }, replayable),
          ...withBody, ...authenticated,
        },
      },
    },
    '/holds/{id}/void': {
      post: {
        operationId: 'voidHold', tags: ['holds'], summary: 'Void a hold',
        description: 'Its payee (its payer when it has none) or an admin. The whole amount returns to the payer\'s `available`. '
          + 'The body is `{}` or nothing at all.',
        parameters: [holdId, idempotencyKey],
        requestBody: { required: false, content: json(ref('VoidHoldRequest'), { empty: { summary: 'Nothing to say', value: {} } }) },
        responses: {
          '200': success('The hold, `voided`', 'Hold', { voided: { value: voidedHold } }, replayable),
          '400': failure('A body other than `{}`, or a bad Idempotency-Key', { unknown_field: errorBody('invalid_request', 'Unknown field: amount', { param: 'amount' }) }),
          '403': PAYEE_ONLY,
          '404': NO_HOLD,
          '409': KEY_IN_USE,
          '422': failure('The hold expired or is no longer `held`, or the Idempotency-Key was used with another request', {
            ...HOLD_STATE,
            idempotency_key_reused: KEY_REUSED,
          }, replayable),
          ...withBody, ...authenticated,
        },
      },
    },
    '/transactions/{id}/refunds': {
      post: {
        operationId: 'createRefund', tags: ['refunds'], summary: 'Refund a completed deposit, withdrawal or transfer',
        description: 'An admin, or the payee of a transfer. `amount` defaults to what is left; refunds may be partial and never add up to more '
          + 'than the original, whose `refundedAmount` grows (its status never changes). The refund is a `refund` transaction naming the original '
          + 'in `refundOf`. A transfer refund moves the money back from the payee to the sender; a withdrawal refund credits the owner; a deposit '
          + 'refund debits the owner first, then asks the payment gateway: `completed` when it succeeds, `pending` (money stays debited) until '
          + 'it settles, `failed` with a 402 and the money back when declined, and a 502 naming it when the outcome is unknown.',
        parameters: [transactionId, idempotencyKey],
        requestBody: body('RefundRequest', {
          partial: { summary: 'Refund part of it', value: { amount: 100, metadata: { reason: 'returned' } } },
          rest: { summary: 'Refund what is left', value: {} },
        }),
        responses: {
          '201': success('The refund (`completed`, or `pending` for a deposit the gateway has not settled)', 'Transaction', {
            transfer: { value: refund }, deposit: { value: pendingRefund },
          }, replayable),
          '400': failure('Invalid body or Idempotency-Key', { amount: INVALID_AMOUNT }),
          '402': failure('The gateway declined a deposit refund; the failed refund is named and its money is back in the wallet', {
            payment_failed: example(refundDeclined({ id: REFUND_ID })),
          }, replayable),
          '403': failure('The caller sees the transaction but may not refund it (its sender, or the owner of a deposit or withdrawal)', {
            forbidden: example(refundForbidden()),
          }, replayable),
          '404': failure('No such transaction, or not visible to the caller', { not_found: example(new TransactionNotFound()) }, replayable),
          '409': KEY_IN_USE,
          '422': failure('More than what is left to refund, not a completed deposit, withdrawal or transfer, not enough money to give back, '
            + 'a balance that cannot take it, or the Idempotency-Key was used with another request', {
            refund_exceeds_amount: example(refundRefusal(refundedTransfer, 150) as DomainError),
            invalid_state_transition: example(refundRefusal({ ...pendingDeposit, refundedAmount: 0 } as Transaction, 100) as DomainError),
            insufficient_funds: example(new InsufficientFunds()),
            balance_limit_exceeded: example(new BalanceOverflow()),
            idempotency_key_reused: KEY_REUSED,
          }, replayable),
          '502': failure('The gateway failed or its answer is unknown; the deposit refund stays pending and a retry with the same key resumes it', {
            payment_gateway_error: example(new PaymentGatewayError('The payment gateway did not answer in time', REFUND_ID, 'refund')),
          }),
          ...withBody, ...authenticated,
        },
      },
    },
  },
  components: {
    securitySchemes: {
      bearer: {
        type: 'http', scheme: 'bearer', bearerFormat: 'JWT',
        description: 'HS256 with AUTH_JWT_SECRET, or RS256/ES256 from AUTH_JWKS_URL; `sub` is the user id, scope `admin` for admins',
      },
    },
    schemas: {
      ...componentSchemas(),
      OpenApiDocument: OPENAPI_SCHEMA,
      GatewayThrottled: { type: 'object', description: "API Gateway's own throttling answer", properties: { message: { type: 'string' } }, required: ['message'] },
    },
    headers: HEADERS,
    responses: RESPONSES,
  },
});

let cached: unknown;

export const openApiDocument = (): unknown => (cached ??= build());

let serialized: string | undefined;

/**
 * The handler of GET /openapi.json. A static document needs no token, configuration
 * or storage, so it does not go through the middy wrapper's app(): the document is
 * served even while those are misconfigured or down, and its bundle carries no storage
 * driver. It answers like every route: JSON, `x-request-id`, one log line and metric.
 */
export const openApiHandler = async (event: APIGatewayProxyEventV2, context: Context): Promise<APIGatewayProxyStructuredResultV2> => {
  serialized ??= JSON.stringify(openApiDocument());
  const response = { ...respond(200, undefined, requestIdOf(event, context)), body: serialized };
  logRequest({ event, context, response });
  return response;
};
