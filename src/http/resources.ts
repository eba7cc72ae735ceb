// Every response body is built here, field by field: a whitelist per resource, so
// a field added to a core type stays internal until it is added here on purpose.
// Each mapper's type is its documented schema's (src/http/schemas.ts), so the
// OpenAPI document and what is sent cannot drift apart.
import type * as z from 'zod/mini';
import type { DomainError, ErrorCode } from '../core/errors';
import type { Hold } from '../core/hold';
import type { Balance } from '../core/money';
import { REFUNDABLE_TYPES, type Transaction } from '../core/transaction';
import type { User } from '../core/user';
import type {
  errorResource, healthResource, holdPageResource, holdResource, pageResource, transactionResource, userResource, webhookReceiptResource,
} from './schemas';

export type PublicUser = z.output<typeof userResource>;
export type PublicBalance = PublicUser['balances'][number];
export type PublicTransaction = z.output<typeof transactionResource>;
export type PublicPage = z.output<typeof pageResource>;
export type PublicHold = z.output<typeof holdResource>;
export type PublicHoldPage = z.output<typeof holdPageResource>;
export type PublicHealth = z.output<typeof healthResource>;
export type PublicWebhookReceipt = z.output<typeof webhookReceiptResource>;
/** The documented error shape, its code narrowed to the contract's codes. */
export type PublicError = z.output<typeof errorResource> & { error: { code: ErrorCode } };

export const publicBalance = (b: Balance): PublicBalance => ({ currency: b.currency, available: b.available, held: b.held });

export const publicUser = (u: User): PublicUser => ({
  id: u.id,
  email: u.email,
  name: u.name,
  createdAt: u.createdAt,
  balances: u.balances.map(publicBalance),
});

export const publicTransaction = (tx: Transaction): PublicTransaction => ({
  id: tx.id,
  type: tx.type,
  status: tx.status,
  userId: tx.userId,
  ...(tx.toUserId !== undefined && { toUserId: tx.toUserId }),
  amount: tx.amount,
  currency: tx.currency,
  metadata: { ...tx.metadata },
  createdAt: tx.createdAt,
  updatedAt: tx.updatedAt,
  // Every refundable transaction shows it (0 when none, also for rows stored before refunds existed); a refund never.
  ...(REFUNDABLE_TYPES.includes(tx.type) && { refundedAmount: tx.refundedAmount ?? 0 }),
  ...(tx.holdId !== undefined && { holdId: tx.holdId }),
  ...(tx.refundOf !== undefined && { refundOf: tx.refundOf }),
});

export const publicPage = (data: Transaction[], nextCursor: string | null): PublicPage => ({
  data: data.map(publicTransaction),
  nextCursor,
});

export const publicHold = (h: Hold): PublicHold => ({
  id: h.id,
  userId: h.userId,
  ...(h.toUserId !== undefined && { toUserId: h.toUserId }),
  amount: h.amount,
  currency: h.currency,
  capturedAmount: h.capturedAmount,
  status: h.status,
  expiresAt: h.expiresAt,
  ...(h.transactionId !== undefined && { transactionId: h.transactionId }),
  metadata: { ...h.metadata },
  createdAt: h.createdAt,
  updatedAt: h.updatedAt,
});

export const publicHoldPage = (data: Hold[], nextCursor: string | null): PublicHoldPage => ({
  data: data.map(publicHold),
  nextCursor,
});

export const publicHealth = (status: PublicHealth['status']): PublicHealth => ({ status });

/** The answer to every verified webhook event that was handled (ignored ones included). */
export const publicWebhookReceipt = (): PublicWebhookReceipt => ({ received: true });

export const publicError = (e: DomainError, requestId: string): PublicError => ({
  error: {
    code: e.code,
    message: e.publicMessage,
    ...(e.param !== undefined && { param: e.param }),
    requestId,
    ...(e.transactionId !== undefined && { transactionId: e.transactionId }),
  },
});
