// The PaymentGateway port over the gateway's HTTP API, on Node's built-in fetch.
//   POST {url}/payments                      charge (Idempotency-Key: our deposit id)
//   GET  {url}/payments/{id}                 status by the gateway's id, 404 = unknown
//   GET  {url}/payments?idempotency_key={k}  status by our deposit id, 404 = never charged
//   POST {url}/refunds                       refund a payment (Idempotency-Key: our refund id)
//   GET  {url}/refunds/{id}                  refund status by the gateway's id, 404 = unknown
//   GET  {url}/refunds?idempotency_key={k}   refund status by our refund id, 404 = never refunded
// Each attempt has its own timeout; transient failures are retried with the same
// Idempotency-Key behind a shared circuit breaker (gateway-resilience.ts). Errors name
// neither the URL nor the key: fetch's own errors are dropped, not wrapped.
import { PaymentGatewayError } from '../../core/errors';
import type { ChargeRequest, PaymentGateway, PaymentResult, RefundRequest } from '../../core/ports';
import { makeGatewayPolicy, TransientGatewayError } from './gateway-resilience';
import {
  CHARGE_DECLINE_CODES, REFUND_DECLINE_CODES, isRetryableStatus, parseDecline, parsePayment, parseRetryAfter, rejectionMessage,
} from './gateway-wire';

/** What the HTTP gateway needs (built by src/config.ts from the PAYMENT_* variables). */
export interface HttpPaymentGatewayOptions {
  apiUrl?: string | undefined;
  apiKey?: string | undefined;
  /** Per attempt. */
  timeoutMs: number;
  maxRetries: number;
  circuitThreshold: number;
  circuitHalfOpenMs: number;
}

export interface HttpGatewayTuning {
  /** First retry delay (default 100 ms); later ones grow exponentially with jitter. */
  initialDelayMs?: number;
  /** Cap on one retry delay (default 2 s). */
  maxDelayMs?: number;
  /** For tests: another fetch. */
  fetch?: typeof fetch;
}

interface Answer {
  status: number;
  body: unknown;
}

export const makeHttpPaymentGateway = (config: HttpPaymentGatewayOptions, tuning: HttpGatewayTuning = {}): PaymentGateway => {
  const { apiUrl, apiKey } = config;
  if (!apiUrl || !apiKey) throw new Error('PAYMENT_API_URL and PAYMENT_API_KEY are both required for the HTTP payment gateway');
  // Trailing slash so that a base path (https://host/v1) is kept by relative URLs.
  const base = new URL(apiUrl.endsWith('/') ? apiUrl : `${apiUrl}/`);
  const doFetch = tuning.fetch ?? fetch;
  const policy = makeGatewayPolicy({
    maxRetries: config.maxRetries,
    circuitThreshold: config.circuitThreshold,
    circuitHalfOpenMs: config.circuitHalfOpenMs,
    initialDelayMs: tuning.initialDelayMs ?? 100,
    maxDelayMs: tuning.maxDelayMs ?? 2000,
  });

  /** One attempt. Throws TransientGatewayError for what a retry may fix; returns any other answer. */
  const attempt = async (path: string, init: { method: 'GET' | 'POST'; body?: string; idempotencyKey?: string }): Promise<Answer> => {
    const headers: Record<string, string> = { authorization: `Bearer ${apiKey}`, accept: 'application/json' };
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    if (init.idempotencyKey !== undefined) headers['idempotency-key'] = init.idempotencyKey;
    let res: Response;
    let text: string;
    try {
      // The timeout covers the whole attempt, body included.
      res = await doFetch(new URL(path, base), {
        method: init.method,
        headers,
        ...(init.body !== undefined && { body: init.body }),
        signal: AbortSignal.timeout(config.timeoutMs),
      });
      text = await res.text();
    } catch (err) {
      const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
      throw new TransientGatewayError(timedOut ? 'timeout' : 'network');
    }
    if (isRetryableStatus(res.status)) {
      throw new TransientGatewayError(
        res.status === 429 ? 'rate_limited' : 'server_error',
        parseRetryAfter(res.headers.get('retry-after'), Date.now()),
      );
    }
    return { status: res.status, body: parseJson(text) };
  };

  /** A payment or a refund (the same envelope). */
  const expectBody = (answer: Answer, id: string): PaymentResult => {
    const result = parsePayment(answer.body);
    if (!result) throw new PaymentGatewayError('Payment processing error', id);
    return result;
  };

  /** A POST that moves money (charge, refund): retried with the same key; a 422 may be a decline. */
  const create = async (path: string, body: object, key: string, declineCodes: readonly string[]): Promise<PaymentResult> => {
    const answer = await policy.run(() => attempt(path, { method: 'POST', body: JSON.stringify(body), idempotencyKey: key }), key);
    if (answer.status >= 200 && answer.status < 300) return expectBody(answer, key);
    if (answer.status === 422) {
      const decline = parseDecline(answer.body, key, declineCodes);
      if (decline) return decline;
    }
    throw new PaymentGatewayError(rejectionMessage(answer.status), key);
  };

  /**
   * A status GET by the gateway's id when known, else by our key. Never a re-POST:
   * that would move money for a request whose first attempt never arrived.
   */
  const lookup = async (
    resource: 'payments' | 'refunds', key: string, ref: string | undefined, errorId: string,
  ): Promise<PaymentResult | null> => {
    const path = ref !== undefined
      ? `${resource}/${encodeURIComponent(ref)}`
      : `${resource}?idempotency_key=${encodeURIComponent(key)}`;
    const answer = await policy.run(() => attempt(path, { method: 'GET' }), errorId);
    if (answer.status === 404) return null;
    if (answer.status >= 200 && answer.status < 300) return expectBody(answer, errorId);
    throw new PaymentGatewayError(rejectionMessage(answer.status), errorId);
  };

  return {
    charge: (req: ChargeRequest) =>
      create('payments', { amount: req.amount, currency: req.currency, paymentToken: req.paymentToken }, req.depositId, CHARGE_DECLINE_CODES),

    getPaymentStatus: ({ depositId, paymentRef }) => lookup('payments', depositId, paymentRef, depositId),

    async refund(req: RefundRequest): Promise<PaymentResult> {
      // The refund names the gateway's payment: found by the deposit's key when we never learnt its id.
      const paymentRef = req.paymentRef ?? (await lookup('payments', req.depositId, undefined, req.refundId))?.paymentRef;
      // A payment the gateway never took cannot be refunded: refused, nothing moved.
      if (paymentRef === undefined) return { status: 'declined', paymentRef: req.refundId };
      return create('refunds', { payment_id: paymentRef, amount: req.amount, currency: req.currency }, req.refundId, REFUND_DECLINE_CODES);
    },

    getRefundStatus: ({ refundId, paymentRef }) => lookup('refunds', refundId, paymentRef, refundId),
  };
};

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
};
