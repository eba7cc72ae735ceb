// Request schemas: the single source for validation and for the OpenAPI document.
// Strict objects: an unknown field is a 400 naming it (no mass assignment).
// zod/mini keeps the bundles small (the classic API does not tree-shake).
import * as z from 'zod/mini';
import { CONTRACT_MAX_AMOUNT, SUPPORTED_CURRENCIES } from '../core/money';
import { HOLD_STATUSES, MAX_HOLD_SECONDS } from '../core/hold';
import { TRANSACTION_STATUSES, TRANSACTION_TYPES } from '../core/transaction';
import type { ErrorCode } from '../core/errors';
import { PAYMENT_WEBHOOK_TYPES } from '../core/use-cases/handle-payment-webhook';
import { STATUS_BY_CODE } from './error-mapping';

const described = <S extends z.ZodMiniType>(schema: S, description: string): S => {
  z.globalRegistry.add(schema, { description });
  return schema;
};

const AMOUNT = `must be an integer number of minor units from 1 to ${CONTRACT_MAX_AMOUNT}`;
export const amount = described(
  z.int({ error: AMOUNT }).check(z.minimum(1, AMOUNT), z.maximum(CONTRACT_MAX_AMOUNT, AMOUNT)),
  'Integer number of minor units (1050 = 10.50 USD)',
);
export const currency = described(z.enum(SUPPORTED_CURRENCIES, { error: `must be one of ${SUPPORTED_CURRENCIES.join(', ')}` }), 'ISO 4217 code');
export const metadata = described(
  z.record(z.string().check(z.minLength(1), z.maxLength(40)), z.string().check(z.maxLength(500)))
    .check(z.refine((m) => Object.keys(m).length <= 20, 'metadata has at most 20 keys')),
  'Flat object of string keys (≤ 40 chars) to string values (≤ 500 chars), at most 20 keys',
);

export const createUserBody = z.strictObject({
  email: z.email().check(z.maxLength(254)),
  name: z.string().check(z.minLength(1), z.maxLength(100)),
});

export const depositBody = z.strictObject({
  amount,
  currency,
  paymentToken: z.optional(described(z.string().check(z.minLength(1), z.maxLength(255)), 'Gateway token; sandbox: tok_ok (default), tok_pending, tok_declined')),
  metadata: z.optional(metadata),
});

export const withdrawalBody = z.strictObject({
  amount,
  currency,
  metadata: z.optional(metadata),
});

export const transferBody = z.strictObject({
  toUserId: z.string().check(z.minLength(1), z.maxLength(255)),
  amount,
  currency,
  metadata: z.optional(metadata),
});

const EXPIRES = `must be an integer number of seconds from 1 to ${MAX_HOLD_SECONDS}`;
export const holdBody = z.strictObject({
  amount,
  currency,
  toUserId: z.optional(described(z.string().check(z.minLength(1), z.maxLength(255)), 'The payee a capture credits; without one a capture is a withdrawal')),
  expiresInSeconds: z.optional(described(
    z.int({ error: EXPIRES }).check(z.minimum(1, EXPIRES), z.maximum(MAX_HOLD_SECONDS, EXPIRES)),
    'Seconds until the hold expires and its money is available again (default 3600)',
  )),
  metadata: z.optional(metadata),
});

export const captureBody = z.strictObject({
  amount: z.optional(amount),
  metadata: z.optional(metadata),
});

/** Nothing to say: `{}`, or no body at all. */
export const voidBody = z.strictObject({});

export const refundBody = z.strictObject({
  amount: z.optional(amount),
  metadata: z.optional(metadata),
});

export const updateTransactionBody = z.strictObject({
  status: z.optional(z.enum(TRANSACTION_STATUSES)),
  metadata: z.optional(metadata),
});

/**
 * What the payment gateway posts to /webhooks/payments, for the document only: the
 * handler reads it leniently (unknown fields, an unknown `type` or unusable `data` are
 * answered 200 and ignored) and takes it as a hint, never as the payment's status.
 */
export const paymentWebhookBody = z.looseObject({
  id: described(z.string(), "The gateway's event id (evt_…), the same on every delivery of one event"),
  type: z.enum(PAYMENT_WEBHOOK_TYPES),
  data: z.looseObject({
    depositId: z.optional(described(z.string(), 'The deposit (our transaction id) a payment.* event is about')),
    refundId: z.optional(described(z.string(), 'The refund (our transaction id) a refund.* event is about')),
    paymentRef: z.optional(described(z.string(), "The gateway's own id for the payment")),
  }),
});

const LIMIT = 'limit must be an integer from 1 to 100';
export const listQuery = z.strictObject({
  limit: z.optional(z.pipe(
    z.string().check(z.regex(/^\d{1,3}$/, LIMIT)),
    z.pipe(z.transform(Number), z.int().check(z.minimum(1, LIMIT), z.maximum(100, LIMIT))),
  )),
  cursor: z.optional(z.string().check(z.minLength(1), z.maxLength(1024))),
  type: z.optional(z.enum(TRANSACTION_TYPES)),
  status: z.optional(z.enum(TRANSACTION_STATUSES)),
});

export const listHoldsQuery = z.strictObject({
  limit: listQuery.shape.limit,
  cursor: listQuery.shape.cursor,
  status: z.optional(z.enum(HOLD_STATUSES)),
});

// Response shapes and component names: what the OpenAPI document (src/http/openapi.ts)
// publishes as `components.schemas`, so a generated client gets named types.
/** Names a schema in the OpenAPI document, keeping any description it already has. */
const named = <S extends z.ZodMiniType>(schema: S, id: string, description?: string): S => {
  z.globalRegistry.add(schema, { ...z.globalRegistry.get(schema), id, ...(description !== undefined && { description }) });
  return schema;
};

export const transactionType = named(z.enum(TRANSACTION_TYPES), 'TransactionType');
export const transactionStatus = named(z.enum(TRANSACTION_STATUSES), 'TransactionStatus');
// Every code the error table maps (a Record over ErrorCode, so none is missing).
export const errorCode = named(z.enum(Object.keys(STATUS_BY_CODE) as [ErrorCode, ...ErrorCode[]]), 'ErrorCode', 'Stable, machine-readable error code');
const timestamp = z.iso.datetime();

export const holdStatus = named(z.enum(HOLD_STATUSES), 'HoldStatus');
const minorUnits = z.int().check(z.minimum(0));

export const balance = named(
  z.object({ currency, available: minorUnits, held: minorUnits }),
  'Balance', 'One currency, in minor units: `available` to spend now, and `held` by live holds (never counted in `available`)',
);
export const userResource = named(z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  createdAt: timestamp,
  balances: z.array(balance),
}), 'User', 'A user (id = the token subject) with a balance for every currency ever held');
export const transactionResource = named(z.object({
  id: z.uuid(),
  type: transactionType,
  status: transactionStatus,
  userId: z.string(),
  toUserId: z.optional(z.string()),
  amount: z.int().check(z.minimum(1)),
  currency,
  metadata: z.record(z.string(), z.string()),
  createdAt: timestamp,
  updatedAt: timestamp,
  refundedAmount: z.optional(minorUnits),
  holdId: z.optional(z.uuid()),
  refundOf: z.optional(z.uuid()),
}), 'Transaction', 'A deposit, withdrawal, transfer or refund. userId is the owner (the sender of a transfer, the payee of a refunded transfer); '
  + 'refundedAmount (deposits, withdrawals, transfers) is how much refunds took back; holdId names the hold a capture settled; refundOf the transaction a refund refunds');
export const pageResource = named(
  z.object({ data: z.array(transactionResource), nextCursor: z.nullable(z.string()) }),
  'TransactionPage', 'One page of history, newest first; nextCursor is null on the last page',
);
export const holdResource = named(z.object({
  id: z.uuid(),
  userId: z.string(),
  toUserId: z.optional(z.string()),
  amount: z.int().check(z.minimum(1)),
  currency,
  capturedAmount: minorUnits,
  status: holdStatus,
  expiresAt: timestamp,
  transactionId: z.optional(z.uuid()),
  metadata: z.record(z.string(), z.string()),
  createdAt: timestamp,
  updatedAt: timestamp,
}), 'Hold', 'Money of userId (the payer) set aside until captured, voided or expired; toUserId is the payee a capture credits; transactionId is the capture (captured holds only)');
export const holdPageResource = named(
  z.object({ data: z.array(holdResource), nextCursor: z.nullable(z.string()) }),
  'HoldPage', 'One page of the holds a user pays, newest first; nextCursor is null on the last page',
);
export const errorResource = named(z.object({
  error: z.object({
    code: errorCode,
    message: z.string(),
    param: z.optional(z.string()),
    requestId: z.string(),
    transactionId: z.optional(z.string()),
  }),
}), 'Error', 'The body of every error response');
export const healthResource = named(z.object({ status: z.enum(['ok', 'unavailable']) }), 'Health');
export const webhookReceiptResource = named(z.object({ received: z.literal(true) }), 'WebhookReceipt', 'A verified webhook event, handled');

named(amount, 'Amount');
named(currency, 'Currency');
named(metadata, 'Metadata');
named(createUserBody, 'CreateUserRequest');
named(depositBody, 'DepositRequest');
named(withdrawalBody, 'WithdrawalRequest');
named(transferBody, 'TransferRequest');
named(updateTransactionBody, 'UpdateTransactionRequest');
named(paymentWebhookBody, 'PaymentWebhookEvent', 'A payment gateway event: which deposit or refund to look at, not its status');
named(holdBody, 'CreateHoldRequest');
named(captureBody, 'CaptureHoldRequest');
named(voidBody, 'VoidHoldRequest');
named(refundBody, 'RefundRequest');
