// Request schemas: the single source for validation and for the OpenAPI document.
// Strict objects: an unknown field is a 400 naming it (no mass assignment).
// zod/mini keeps the bundles small (the classic API does not tree-shake).
import * as z from 'zod/mini';
import { CONTRACT_MAX_AMOUNT, SUPPORTED_CURRENCIES } from '../core/money';
import { TRANSACTION_STATUSES, TRANSACTION_TYPES } from '../core/transaction';

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

export const updateTransactionBody = z.strictObject({
  status: z.optional(z.enum(TRANSACTION_STATUSES)),
  metadata: z.optional(metadata),
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

const balance = z.object({ currency, available: z.int().check(z.minimum(0)) });
export const userResource = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  createdAt: z.iso.datetime(),
  balances: z.array(balance),
});
export const transactionResource = z.object({
  id: z.uuid(),
  type: z.enum(TRANSACTION_TYPES),
  status: z.enum(TRANSACTION_STATUSES),
  userId: z.string(),
  toUserId: z.optional(z.string()),
  amount: z.int().check(z.minimum(1)),
  currency,
  metadata: z.record(z.string(), z.string()),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export const pageResource = z.object({ data: z.array(transactionResource), nextCursor: z.nullable(z.string()) });
export const errorResource = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    param: z.optional(z.string()),
    requestId: z.string(),
    transactionId: z.optional(z.string()),
  }),
});
export const healthResource = z.object({ status: z.enum(['ok', 'unavailable']) });
