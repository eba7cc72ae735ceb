// A local stand-in for the payment gateway's HTTP API, with switchable faults.
//   POST /payments                       { amount, currency, paymentToken } + Idempotency-Key
//   GET  /payments/{id}                  the payment, 404 when unknown
//   GET  /payments?idempotency_key={key} the payment created with that key, 404 when none
// A payment is `{ id, status, transaction_id, timestamp }` (transaction_id = the key).
// Tokens: tok_ok succeeds (201); tok_pending is pending (202) and succeeds on its first
// status poll; tok_declined and any other token are declined (422 with the declined
// payment as body, as the adapter expects). The same key always answers the same
// payment and charges once; the same key with another body is 409.
// tok_refund_pending and tok_refund_declined charge like tok_ok; refunds (/refunds) are
// in sandbox-refunds.ts.
// Webhooks: `onSettled` hears of every payment that reaches a final status (at its charge,
// its first status poll, or `settlePendingAfterMs` after it was left pending); the sender
// that posts them signed to the wallet lives in sandbox-webhooks.ts. `onRefundSettled` does
// the same for refunds (sandbox-refunds.ts), with the same `settlePendingAfterMs`.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { makeSandboxRefunds, type RefundStats, type SettledRefund } from './sandbox-refunds';

export type SandboxFault =
  /** Wait, then answer normally (longer than the client's timeout: it gave up before anything was charged). */
  | { kind: 'latency'; ms: number }
  /** Answer this status without processing (500, 503, 429, 400, …). */
  | { kind: 'status'; status: number; retryAfterSeconds?: number }
  /** Destroy the socket, before processing or after it (charged, no answer). */
  | { kind: 'drop'; afterProcessing?: boolean }
  /** Process (charge), then withhold the answer for `ms` — longer than the client's timeout. */
  | { kind: 'timeout-after-processing'; ms: number };

/** A fault for the next `times` requests (default 1; Infinity until cleared). */
export type SandboxFaultStep = SandboxFault & { times?: number };

export interface SandboxStats extends RefundStats {
  /** Every request received, faulted and unauthorized ones included. */
  requests: number;
  /** POST /payments received per Idempotency-Key. */
  chargeRequests: Record<string, number>;
  /** Money actually taken per Idempotency-Key (succeeded or pending payments created). */
  charges: Record<string, number>;
  /** Requests refused for a missing or wrong API key. */
  unauthorized: number;
}

export interface SandboxGateway {
  url: string;
  close(): Promise<void>;
  /** Replaces the fault queue: each request consumes the head step. No argument: no faults. */
  setFault(...steps: SandboxFaultStep[]): void;
  stats(): SandboxStats;
}

type Status = 'succeeded' | 'pending' | 'declined';

/** A payment as the API shows it, when it has just become final. */
export interface SettledPayment {
  id: string;
  status: Exclude<Status, 'pending'>;
  transaction_id: string;
  timestamp: string;
}

export interface SandboxGatewayOptions {
  apiKey: string;
  port?: number;
  /** A pending payment or refund succeeds by itself this long after it was made (unset: only its first status poll settles it). */
  settlePendingAfterMs?: number;
  /** Told of every payment that becomes final (e.g. to send a webhook). */
  onSettled?: (payment: SettledPayment) => void;
  /** Told of every refund that becomes final (e.g. to send a webhook). */
  onRefundSettled?: (refund: SettledRefund) => void;
}

interface Payment {
  id: string;
  key: string;
  status: Status;
  request: string;
  createdAt: string;
}

const MAX_BODY = 16 * 1024;
const CHARGE_SUCCEEDS = new Set(['tok_ok', 'tok_refund_pending', 'tok_refund_declined']);

export const startSandboxGateway = async ({
  apiKey, port = 0, settlePendingAfterMs, onSettled, onRefundSettled,
}: SandboxGatewayOptions): Promise<SandboxGateway> => {
  const byId = new Map<string, Payment>();
  const byKey = new Map<string, Payment>();
  const stats: SandboxStats = { requests: 0, chargeRequests: {}, charges: {}, unauthorized: 0, refundRequests: {}, refunded: {} };
  let faults: Array<{ fault: SandboxFault; left: number }> = [];
  const timers = new Set<NodeJS.Timeout>();

  const later = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.add(t);
    });
  const refunds = makeSandboxRefunds(byId, stats, { later, settlePendingAfterMs, onSettled: onRefundSettled });

  const nextFault = (): SandboxFault | undefined => {
    const head = faults[0];
    if (!head) return undefined;
    if (--head.left <= 0) faults.shift();
    return head.fault;
  };

  const view = (p: Payment) => ({ id: p.id, status: p.status, transaction_id: p.key, timestamp: p.createdAt });
  const codeFor = (p: Payment): number => (p.status === 'declined' ? 422 : p.status === 'pending' ? 202 : 201);
  /** Tells onSettled of a payment that has just become final. */
  const settled = (p: Payment): void => {
    if (p.status !== 'pending') onSettled?.({ ...view(p), status: p.status });
  };
  /** A status query is the "poll" that settles a pending payment. */
  const poll = (p: Payment): Payment => {
    if (p.status === 'pending') {
      p.status = 'succeeded';
      settled(p);
    }
    return p;
  };

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
    if (res.destroyed || res.writableEnded) return;
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
  const fail = (res: ServerResponse, status: number, type: string, message: string): void =>
    send(res, status, { error: { type, message } });

  const readBody = (req: IncomingMessage): Promise<string | null> =>
    new Promise((resolve) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= MAX_BODY) chunks.push(c);
      });
      req.on('end', () => resolve(size > MAX_BODY ? null : Buffer.concat(chunks).toString('utf8')));
      req.on('error', () => resolve(null));
    });

  /** Creates or replays the payment for a key; returns the answer to send. */
  const charge = (key: string, raw: string): { status: number; body: unknown } => {
    let input: unknown;
    try {
      input = JSON.parse(raw);
    } catch {
      return { status: 400, body: { error: { type: 'invalid_request', message: 'Body is not JSON' } } };
    }
    const { amount, currency, paymentToken } = (input ?? {}) as Record<string, unknown>;
    if (!Number.isSafeInteger(amount) || (amount as number) < 1 || typeof currency !== 'string' || !/^[A-Z]{3}$/.test(currency)
      || typeof paymentToken !== 'string' || paymentToken.length === 0) {
      return { status: 400, body: { error: { type: 'invalid_request', message: 'amount, currency and paymentToken are required' } } };
    }
    const request = JSON.stringify({ amount, currency, paymentToken });
    const existing = byKey.get(key);
    if (existing) {
      if (existing.request !== request) {
        return { status: 409, body: { error: { type: 'idempotency_error', message: 'Key reused with another request' } } };
      }
      return { status: codeFor(existing), body: view(existing) };
    }
    const status: Status = CHARGE_SUCCEEDS.has(paymentToken) ? 'succeeded' : paymentToken === 'tok_pending' ? 'pending' : 'declined';
    const payment: Payment = { id: `pay_${randomUUID().replace(/-/g, '')}`, key, status, request, createdAt: new Date().toISOString() };
    byKey.set(key, payment);
    byId.set(payment.id, payment);
    if (status !== 'declined') stats.charges[key] = (stats.charges[key] ?? 0) + 1;
    if (status !== 'pending') settled(payment);
    else if (settlePendingAfterMs !== undefined) void later(settlePendingAfterMs).then(() => poll(payment));
    return { status: codeFor(payment), body: view(payment) };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    stats.requests++;
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const key = req.headers['idempotency-key'];
    const raw = await readBody(req);
    const isCharge = req.method === 'POST' && url.pathname === '/payments';
    if (isCharge && typeof key === 'string') stats.chargeRequests[key] = (stats.chargeRequests[key] ?? 0) + 1;
    refunds.count(req.method, url, key);

    const fault = nextFault();
    if (fault?.kind === 'latency') await later(fault.ms);
    if (fault?.kind === 'status') {
      const headers: Record<string, string> = fault.retryAfterSeconds !== undefined ? { 'retry-after': String(fault.retryAfterSeconds) } : {};
      send(res, fault.status, { error: { type: 'sandbox_fault', message: `Injected ${fault.status}` } }, headers);
      return;
    }
    if (fault?.kind === 'drop' && !fault.afterProcessing) {
      req.socket.destroy();
      return;
    }

    if (req.headers.authorization !== `Bearer ${apiKey}`) {
      stats.unauthorized++;
      fail(res, 401, 'authentication_error', 'Invalid API key');
      return;
    }

    let answer: { status: number; body: unknown };
    if (isCharge) {
      if (typeof key !== 'string' || key.length === 0 || key.length > 255) {
        answer = { status: 400, body: { error: { type: 'invalid_request', message: 'Idempotency-Key is required' } } };
      } else if (raw === null) {
        answer = { status: 400, body: { error: { type: 'invalid_request', message: 'Body too large' } } };
      } else {
        answer = charge(key, raw);
      }
    } else if (req.method === 'GET' && url.pathname === '/payments' && url.searchParams.has('idempotency_key')) {
      const p = byKey.get(url.searchParams.get('idempotency_key') ?? '');
      answer = p ? { status: 200, body: view(poll(p)) } : { status: 404, body: { error: { type: 'not_found', message: 'No payment for this key' } } };
    } else if (req.method === 'GET' && url.pathname.startsWith('/payments/')) {
      const p = byId.get(decodeURIComponent(url.pathname.slice('/payments/'.length)));
      answer = p ? { status: 200, body: view(poll(p)) } : { status: 404, body: { error: { type: 'not_found', message: 'No such payment' } } };
    } else if (refunds.handles(req.method, url)) {
      answer = refunds.answer(req.method, url, key, raw);
    } else {
      answer = { status: 404, body: { error: { type: 'not_found', message: 'No such route' } } };
    }

    if (fault?.kind === 'drop') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'timeout-after-processing') await later(fault.ms);
    send(res, answer.status, answer.body);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => fail(res, 500, 'api_error', 'Sandbox failure'));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const { port: bound } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${bound}`,
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    setFault(...steps) {
      faults = steps.map((step) => ({ fault: step, left: step.times ?? 1 }));
    },
    stats: () => structuredClone(stats),
  };
};
