// The sandbox gateway's webhook sender. Hooked to the sandbox's `onSettled` and
// `onRefundSettled`, it posts a signed event to the wallet's POST /webhooks/payments for
// every payment and refund that becomes final, as a real gateway does: any non-2xx answer or network error is retried with
// exponential backoff, each attempt signed afresh. On demand, the next events misbehave
// the ways real deliveries do (see WebhookMisbehaviour). The event builder and signer
// below also serve tests that post events by hand (fake-gateway-webhooks.ts).
import { randomUUID } from 'node:crypto';
import { signWebhook } from '../../src/http/webhook-signature';
import type { SandboxGatewayOptions, SettledPayment } from './sandbox-gateway';
import type { SettledRefund } from './sandbox-refunds';

export const WEBHOOK_MISBEHAVIOURS = ['duplicate', 'out-of-order', 'stale-timestamp', 'bad-signature'] as const;
/**
 * - duplicate: the event is delivered twice at once (same id, same body);
 * - out-of-order: after the event, a contradicting older one (payment.failed after payment.succeeded,
 *   refund.failed after refund.succeeded, or the reverse);
 * - stale-timestamp: the first attempt is signed with `t` 10 minutes ago (refused; the retry is fresh);
 * - bad-signature: the first attempt is signed with another secret (refused; the retry is good).
 */
export type WebhookMisbehaviour = (typeof WEBHOOK_MISBEHAVIOURS)[number];

export type PaymentEventType = 'payment.succeeded' | 'payment.failed' | 'refund.succeeded' | 'refund.failed';

export interface PaymentEvent {
  id: string;
  type: PaymentEventType;
  /** Unix seconds; a field the wallet does not read (unknown fields are ignored). */
  created: number;
  data: { depositId?: string; refundId?: string; paymentRef?: string };
}

/** The event an out-of-order delivery sends after each type. */
const CONTRADICTS: Record<PaymentEventType, PaymentEventType> = {
  'payment.succeeded': 'payment.failed',
  'payment.failed': 'payment.succeeded',
  'refund.succeeded': 'refund.failed',
  'refund.failed': 'refund.succeeded',
};

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** A new event about a deposit or a refund. */
export const paymentEvent = (type: PaymentEventType, data: PaymentEvent['data']): PaymentEvent =>
  ({ id: `evt_${randomUUID().replace(/-/g, '')}`, type, created: nowSeconds(), data });

export interface SignedRequest {
  body: string;
  headers: Record<string, string>;
}

/** The request a gateway sends: the body's exact bytes and their signature (`t` now unless given). */
export const signedWebhookRequest = (secret: string, event: unknown, opts: { t?: number; signature?: string } = {}): SignedRequest => {
  const body = typeof event === 'string' ? event : JSON.stringify(event);
  return {
    body,
    headers: { 'content-type': 'application/json', 'webhook-signature': opts.signature ?? signWebhook(secret, body, opts.t ?? nowSeconds()) },
  };
};

export interface WebhookAttempt {
  /** The HTTP status, or 0 for a network error or timeout. */
  status: number;
  misbehaviour?: WebhookMisbehaviour;
}

export interface WebhookDelivery {
  event: PaymentEvent;
  attempts: WebhookAttempt[];
  /** A 2xx came back. */
  delivered: boolean;
}

export interface WebhookSenderOptions {
  /** The wallet's POST /webhooks/payments. */
  url: string;
  secret: string;
  /** Attempts per delivery (default 6: about 30 s of backoff at the default delays). */
  maxAttempts?: number;
  /** First retry delay (default 1000 ms), doubling each time, capped by maxDelayMs (default 16 s). */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Per attempt (default 10 s). */
  timeoutMs?: number;
  /** Told of every attempt (the CLI prints them). */
  onAttempt?: (delivery: WebhookDelivery, attempt: WebhookAttempt) => void;
}

export interface WebhookSender {
  /** For the sandbox's `onSettled`: announces the payment. */
  paymentSettled(payment: SettledPayment): void;
  /** For the sandbox's `onRefundSettled`: announces the refund (`data.refundId`: our refund id, its key). */
  refundSettled(refund: SettledRefund): void;
  /** Both, to spread into startSandboxGateway's options: every payment and refund is announced. */
  hooks: Required<Pick<SandboxGatewayOptions, 'onSettled' | 'onRefundSettled'>>;
  /** The next events misbehave, one kind each, in this order; later ones are sent normally. */
  misbehave(...kinds: WebhookMisbehaviour[]): void;
  deliveries(): WebhookDelivery[];
  /** Resolves once every delivery started so far has finished (delivered or given up). */
  idle(): Promise<void>;
  /** Stops retrying; deliveries in flight end as they are. */
  close(): void;
}

export const startWebhookSender = (opts: WebhookSenderOptions): WebhookSender => {
  const maxAttempts = opts.maxAttempts ?? 6;
  const initialDelayMs = opts.initialDelayMs ?? 1000;
  const maxDelayMs = opts.maxDelayMs ?? 16_000;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const queued: WebhookMisbehaviour[] = [];
  const deliveries: WebhookDelivery[] = [];
  const running = new Set<Promise<void>>();
  /** Backoff waits, each with what ends it early (close). */
  const timers = new Map<NodeJS.Timeout, () => void>();
  let closed = false;

  const wait = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.set(t, resolve);
    });

  /** One attempt; the first may misbehave in how it is signed. */
  const post = async (event: PaymentEvent, misbehaviour: WebhookMisbehaviour | undefined): Promise<number> => {
    const { body, headers } = signedWebhookRequest(misbehaviour === 'bad-signature' ? `not-${opts.secret}` : opts.secret, event, {
      ...(misbehaviour === 'stale-timestamp' && { t: nowSeconds() - 600 }),
    });
    try {
      const res = await fetch(opts.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(timeoutMs) });
      await res.arrayBuffer();
      return res.status;
    } catch {
      return 0;
    }
  };

  const deliver = async (event: PaymentEvent, misbehaviour?: WebhookMisbehaviour): Promise<void> => {
    const delivery: WebhookDelivery = { event, attempts: [], delivered: false };
    deliveries.push(delivery);
    for (let n = 0; n < maxAttempts && !closed; n++) {
      if (n > 0) await wait(Math.min(initialDelayMs * 2 ** (n - 1), maxDelayMs));
      if (closed) break;
      const signing = n === 0 && (misbehaviour === 'stale-timestamp' || misbehaviour === 'bad-signature') ? misbehaviour : undefined;
      const attempt: WebhookAttempt = { status: await post(event, signing), ...(signing && { misbehaviour: signing }) };
      delivery.attempts.push(attempt);
      opts.onAttempt?.(delivery, attempt);
      if (attempt.status >= 200 && attempt.status < 300) {
        delivery.delivered = true;
        return;
      }
    }
  };

  const announce = async (type: PaymentEventType, data: PaymentEvent['data']): Promise<void> => {
    const event = paymentEvent(type, data);
    const misbehaviour = queued.shift();
    if (misbehaviour === 'duplicate') {
      await Promise.all([deliver(event, misbehaviour), deliver(event, misbehaviour)]);
    } else if (misbehaviour === 'out-of-order') {
      await deliver(event, misbehaviour);
      // An older event that lost its way, contradicting the one before.
      const contradiction = paymentEvent(CONTRADICTS[type], data);
      await deliver({ ...contradiction, created: event.created - 60 }, misbehaviour);
    } else {
      await deliver(event, misbehaviour);
    }
  };

  const start = (type: PaymentEventType, data: PaymentEvent['data']): void => {
    if (closed) return;
    const p = announce(type, data).finally(() => running.delete(p));
    running.add(p);
  };

  const paymentSettled = (payment: SettledPayment): void =>
    start(payment.status === 'succeeded' ? 'payment.succeeded' : 'payment.failed', { depositId: payment.transaction_id, paymentRef: payment.id });
  const refundSettled = (refund: SettledRefund): void =>
    start(refund.status === 'succeeded' ? 'refund.succeeded' : 'refund.failed', { refundId: refund.transaction_id, paymentRef: refund.id });

  return {
    paymentSettled,
    refundSettled,
    hooks: { onSettled: paymentSettled, onRefundSettled: refundSettled },
    misbehave(...kinds) {
      queued.push(...kinds);
    },
    deliveries: () => structuredClone(deliveries),
    async idle() {
      while (running.size > 0) await Promise.all([...running]);
    },
    close() {
      closed = true;
      for (const [t, resolve] of timers) {
        clearTimeout(t);
        resolve();
      }
      timers.clear();
    },
  };
};
