// The gateway's wire format and its mapping to the PaymentGateway port, as pure
// functions. Payment body: `{ id, status, transaction_id, timestamp }`; a refund is
// the same envelope plus `{ payment_id, amount, currency, failure_reason? }`.
import type { PaymentResult, PaymentStatus } from '../../core/ports';

// Hand-checked rather than a schema library: four fields do not justify the bundle weight.
export const PAYMENT_STATUSES: readonly PaymentStatus[] = ['succeeded', 'pending', 'declined'];

export interface PaymentBody {
  /** The gateway's id: our paymentRef, used for GET /payments/{id}. */
  id: string;
  status: PaymentStatus;
  /** Our reference for the payment: the Idempotency-Key (deposit id) it was created with. */
  transaction_id?: string;
  timestamp?: string;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStatus = (v: unknown): v is PaymentStatus => (PAYMENT_STATUSES as readonly unknown[]).includes(v);

/** A parsed payment or refund, or null when the body is not one (a gateway bug or an error body). */
export const parsePayment = (raw: unknown): PaymentResult | null => {
  if (!isRecord(raw) || typeof raw.id !== 'string' || raw.id.length === 0 || raw.id.length > 255 || !isStatus(raw.status)) return null;
  return { status: raw.status, paymentRef: raw.id };
};

/** A refund: `id` is the gateway's (re_…), `transaction_id` our refund id (its Idempotency-Key). */
export interface RefundBody extends PaymentBody {
  /** The gateway's id of the payment refunded. */
  payment_id: string;
  amount: number;
  currency: string;
  /** Why a declined refund was refused (`refund_declined`, `amount_exceeds_payment`, …). */
  failure_reason?: string;
}

/** Error types/codes that mean "refused, nothing moved". */
export const CHARGE_DECLINE_CODES: readonly string[] = ['card_declined'];
export const REFUND_DECLINE_CODES: readonly string[] = ['refund_declined', 'amount_exceeds_payment', 'payment_not_refundable'];

/**
 * A 422 is a decline when its body says so — a payment (or refund) with status
 * `declined`, or an error whose type/code is one of `codes` — then nothing moved.
 * Any other 422 is "Payment processing failed". `fallbackRef` stands in for the
 * gateway's id when the body is an error.
 */
export const parseDecline = (raw: unknown, fallbackRef: string, codes: readonly string[] = CHARGE_DECLINE_CODES): PaymentResult | null => {
  const payment = parsePayment(raw);
  if (payment) return payment.status === 'declined' ? payment : null;
  const error = isRecord(raw) && isRecord(raw.error) ? raw.error : undefined;
  const known = codes as readonly unknown[];
  if (error && (known.includes(error.type) || known.includes(error.code))) return { status: 'declined', paymentRef: fallbackRef };
  return null;
};

/** Messages for gateway answers we do not retry (they name no URL, key or body). */
export const rejectionMessage = (status: number): string => {
  if (status === 400) return 'Invalid payment request';
  if (status === 401 || status === 403) return 'Payment authorization failed';
  if (status === 422) return 'Payment processing failed';
  return 'Payment processing error';
};

/** Worth another attempt: the gateway may be fine a moment later. */
export const isRetryableStatus = (status: number): boolean => status === 429 || status >= 500;

/** `Retry-After` as milliseconds (seconds or an HTTP date); undefined when absent or unparsable. */
export const parseRetryAfter = (value: string | null, nowMs: number): number | undefined => {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
};
