// The sandbox gateway's refunds; sandbox-gateway.ts routes them here, behind the same
// API key check and fault queue as payments.
//   POST /refunds                        { payment_id, amount, currency } + Idempotency-Key
//   GET  /refunds/{id}                   the refund, 404 when unknown
//   GET  /refunds?idempotency_key={key}  the refund created with that key, 404 when none
// A refund is `{ id, status, payment_id, amount, currency, transaction_id, timestamp,
// failure_reason? }` (transaction_id = the key). By the token its payment was charged
// with: tok_refund_pending is pending (202) and succeeds on its first status query (or by
// itself `settlePendingAfterMs` after it was made), tok_refund_declined is declined, any
// other is succeeded (201). Also declined (422 with
// the declined refund, failure_reason saying why): an unknown payment, one that has not
// succeeded, another currency, more than what is left of the payment. The same key
// always answers the same refund and refunds once; the same key with another body is 409.
// `onSettled` hears of every refund that reaches a final status, as the gateway's
// refund webhooks do (sandbox-webhooks.ts sends them).
import { randomUUID } from 'node:crypto';

type Status = 'succeeded' | 'pending' | 'declined';

/** What refunds need of a sandbox payment: `request` is its charge body as JSON. */
export interface RefundablePayment {
  id: string;
  status: Status;
  request: string;
}

export interface RefundStats {
  /** POST /refunds received per Idempotency-Key. */
  refundRequests: Record<string, number>;
  /** Money given back per Idempotency-Key, in minor units (succeeded or pending refunds created). */
  refunded: Record<string, number>;
}

/** A refund as the API shows it, when it has just become final. */
export interface SettledRefund {
  id: string;
  status: Exclude<Status, 'pending'>;
  payment_id: string;
  amount: number;
  currency: string;
  /** Our refund id (the Idempotency-Key). */
  transaction_id: string;
  timestamp: string;
  failure_reason?: string;
}

export interface SandboxRefundOptions {
  /** A pending refund succeeds by itself this long after it was made (unset: only its first status query settles it). */
  settlePendingAfterMs?: number;
  /** The gateway's timer: resolves after `ms`, cancelled when the sandbox closes. */
  later: (ms: number) => Promise<void>;
  /** Told of every refund that becomes final (e.g. to send a webhook). */
  onSettled?: (refund: SettledRefund) => void;
}

export interface SandboxAnswer {
  status: number;
  body: unknown;
}

export interface SandboxRefunds {
  /** True for the refund routes. */
  handles(method: string | undefined, url: URL): boolean;
  /** Counts a POST /refunds for its key, faulted ones included (like charge requests). */
  count(method: string | undefined, url: URL, key: string | string[] | undefined): void;
  /** The answer to a refund route (`raw`: the body, null when too large). */
  answer(method: string | undefined, url: URL, key: string | string[] | undefined, raw: string | null): SandboxAnswer;
}

interface Refund {
  id: string;
  key: string;
  paymentId: string;
  amount: number;
  currency: string;
  status: Status;
  reason?: string;
  request: string;
  createdAt: string;
}

const invalid = (message: string): SandboxAnswer => ({ status: 400, body: { error: { type: 'invalid_request', message } } });
const notFound = (message: string): SandboxAnswer => ({ status: 404, body: { error: { type: 'not_found', message } } });

export const makeSandboxRefunds = (
  payments: ReadonlyMap<string, RefundablePayment>, stats: RefundStats, { settlePendingAfterMs, later, onSettled }: SandboxRefundOptions,
): SandboxRefunds => {
  const byId = new Map<string, Refund>();
  const byKey = new Map<string, Refund>();

  const view = (r: Refund) => ({
    id: r.id, status: r.status, payment_id: r.paymentId, amount: r.amount, currency: r.currency,
    transaction_id: r.key, timestamp: r.createdAt, ...(r.reason !== undefined && { failure_reason: r.reason }),
  });
  const codeFor = (r: Refund): number => (r.status === 'declined' ? 422 : r.status === 'pending' ? 202 : 201);
  /** Tells onSettled of a refund that has just become final. */
  const settled = (r: Refund): void => {
    if (r.status !== 'pending') onSettled?.({ ...view(r), status: r.status });
  };
  /** A status query (or the timer) is the "poll" that settles a pending refund. */
  const poll = (r: Refund): Refund => {
    if (r.status === 'pending') {
      r.status = 'succeeded';
      settled(r);
    }
    return r;
  };

  /** The outcome of a new refund, and why when it is refused. */
  const decide = (paymentId: string, amount: number, currency: string): { status: Status; reason?: string } => {
    const payment = payments.get(paymentId);
    if (!payment) return { status: 'declined', reason: 'payment_not_found' };
    if (payment.status !== 'succeeded') return { status: 'declined', reason: 'payment_not_refundable' };
    const charge = JSON.parse(payment.request) as { amount: number; currency: string; paymentToken: string };
    if (charge.currency !== currency) return { status: 'declined', reason: 'currency_mismatch' };
    let taken = 0;
    for (const r of byId.values()) if (r.paymentId === paymentId && r.status !== 'declined') taken += r.amount;
    if (taken + amount > charge.amount) return { status: 'declined', reason: 'amount_exceeds_payment' };
    if (charge.paymentToken === 'tok_refund_declined') return { status: 'declined', reason: 'refund_declined' };
    return { status: charge.paymentToken === 'tok_refund_pending' ? 'pending' : 'succeeded' };
  };

  /** Creates or replays the refund for a key. */
  const create = (key: string, raw: string): SandboxAnswer => {
    let input: unknown;
    try {
      input = JSON.parse(raw);
    } catch {
      return invalid('Body is not JSON');
    }
    const { payment_id: paymentId, amount, currency } = (input ?? {}) as Record<string, unknown>;
    if (typeof paymentId !== 'string' || paymentId.length === 0 || !Number.isSafeInteger(amount) || (amount as number) < 1
      || typeof currency !== 'string' || !/^[A-Z]{3}$/.test(currency)) {
      return invalid('payment_id, amount and currency are required');
    }
    const request = JSON.stringify({ paymentId, amount, currency });
    const existing = byKey.get(key);
    if (existing) {
      if (existing.request !== request) return { status: 409, body: { error: { type: 'idempotency_error', message: 'Key reused with another request' } } };
      return { status: codeFor(existing), body: view(existing) };
    }
    const refund: Refund = {
      id: `re_${randomUUID().replace(/-/g, '')}`, key, paymentId, amount: amount as number, currency,
      ...decide(paymentId, amount as number, currency), request, createdAt: new Date().toISOString(),
    };
    byKey.set(key, refund);
    byId.set(refund.id, refund);
    if (refund.status !== 'declined') stats.refunded[key] = (stats.refunded[key] ?? 0) + refund.amount;
    if (refund.status !== 'pending') settled(refund);
    else if (settlePendingAfterMs !== undefined) void later(settlePendingAfterMs).then(() => poll(refund));
    return { status: codeFor(refund), body: view(refund) };
  };

  const isCreate = (method: string | undefined, url: URL): boolean => method === 'POST' && url.pathname === '/refunds';

  return {
    handles: (method, url) => isCreate(method, url) || (method === 'GET' && (url.pathname === '/refunds' || url.pathname.startsWith('/refunds/'))),

    count(method, url, key) {
      if (isCreate(method, url) && typeof key === 'string') stats.refundRequests[key] = (stats.refundRequests[key] ?? 0) + 1;
    },

    answer(method, url, key, raw) {
      if (isCreate(method, url)) {
        if (typeof key !== 'string' || key.length === 0 || key.length > 255) return invalid('Idempotency-Key is required');
        if (raw === null) return invalid('Body too large');
        return create(key, raw);
      }
      if (url.pathname === '/refunds') {
        const r = byKey.get(url.searchParams.get('idempotency_key') ?? '');
        return r ? { status: 200, body: view(poll(r)) } : notFound('No refund for this key');
      }
      const r = byId.get(decodeURIComponent(url.pathname.slice('/refunds/'.length)));
      return r ? { status: 200, body: view(poll(r)) } : notFound('No such refund');
    },
  };
};
