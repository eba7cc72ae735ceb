// An HTTP client for the bank workload and fault suites: one logical operation is
// sent again, with the SAME Idempotency-Key and body, after any network error,
// timeout, 5xx, 429 or 409 idempotency_key_in_use — bounded by attempts and time.
// Whatever it ends with (a final 2xx/4xx, or the last failure) is the op's outcome.
import { e2eToken } from './tokens-e2e';

export interface Reply {
  /** HTTP status; 0 when the attempt got no HTTP answer (network error or timeout). */
  status: number;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON under test
}

export interface Attempt {
  status: number;
  /** The error code of an error body, or `network` / `timeout` for status 0. */
  code?: string;
  /** When the attempt was sent and when its answer (or failure) arrived, ms since the epoch. */
  sentAt: number;
  at: number;
}

export interface Outcome extends Reply {
  attempts: Attempt[];
  /** When the first attempt started and when the final answer arrived, ms since the epoch. */
  startedAt: number;
  finishedAt: number;
}

export interface RequestOptions {
  token?: string;
  body?: unknown;
  idempotencyKey?: string;
  headers?: Record<string, string>;
}

export interface RetryPolicy {
  /** At most this many attempts per logical operation. */
  maxAttempts: number;
  /** No new attempt starts this long after the first one. */
  deadlineMs: number;
  /** Per-attempt timeout. */
  timeoutMs: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 60, deadlineMs: 60_000, timeoutMs: 20_000, baseDelayMs: 25, maxDelayMs: 1_000 };

export interface ClientStats {
  /** Logical operations sent through `send`. */
  operations: number;
  /** HTTP attempts (first tries and retries). */
  attempts: number;
  retries: number;
  networkErrors: number;
  timeouts: number;
  /** Status of every attempt, by `status` or `status code`. */
  attemptStatuses: Record<string, number>;
}

/** Worth another try with the same key: the outcome is not final. */
export const isRetryable = (a: Attempt): boolean =>
  a.status === 0 || a.status >= 500 || a.status === 429 || (a.status === 409 && a.code === 'idempotency_key_in_use');

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class BankClient {
  readonly stats: ClientStats = { operations: 0, attempts: 0, retries: 0, networkErrors: 0, timeouts: 0, attemptStatuses: {} };
  private readonly tokens = new Map<string, Promise<string>>();

  constructor(readonly base: string, readonly policy: RetryPolicy = DEFAULT_RETRY) {}

  /** A cached token for `userId` (HS256 with AUTH_JWT_SECRET, or E2E_TOKEN_COMMAND). */
  token(userId: string, admin = false): Promise<string> {
    const k = `${userId}${admin ? ' admin' : ''}`;
    let t = this.tokens.get(k);
    if (!t) this.tokens.set(k, (t = e2eToken(userId, admin)));
    return t;
  }

  /** One attempt, never retried. Network errors and timeouts are status 0. */
  async once(method: string, path: string, opts: RequestOptions = {}, timeoutMs = this.policy.timeoutMs): Promise<Reply> {
    const headers: Record<string, string> = {
      ...(opts.token && { authorization: `Bearer ${opts.token}` }),
      ...(opts.body !== undefined && { 'content-type': 'application/json' }),
      ...(opts.idempotencyKey !== undefined && { 'idempotency-key': opts.idempotencyKey }),
      ...opts.headers,
    };
    this.stats.attempts++;
    let reply: Reply;
    try {
      const res = await fetch(`${this.base}${path}`, {
        method,
        headers,
        ...(opts.body !== undefined && { body: JSON.stringify(opts.body) }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await res.text();
      let body: unknown;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = { unparsable: text.slice(0, 200) };
      }
      reply = { status: res.status, headers: res.headers, body };
    } catch (err) {
      const timedOut = (err as { name?: string }).name === 'TimeoutError';
      if (timedOut) this.stats.timeouts++;
      else this.stats.networkErrors++;
      reply = { status: 0, headers: new Headers(), body: { error: { code: timedOut ? 'timeout' : 'network' } } };
    }
    const code = codeOf(reply);
    const label = code ? `${reply.status} ${code}` : String(reply.status);
    this.stats.attemptStatuses[label] = (this.stats.attemptStatuses[label] ?? 0) + 1;
    return reply;
  }

  /** One logical operation: retried with the same key and body until its outcome is final or the policy gives up. */
  async send(method: string, path: string, opts: RequestOptions = {}): Promise<Outcome> {
    this.stats.operations++;
    const attempts: Attempt[] = [];
    const started = Date.now();
    for (let n = 0; ; n++) {
      const sentAt = Date.now();
      const reply = await this.once(method, path, opts);
      const attempt: Attempt = { status: reply.status, ...(codeOf(reply) && { code: codeOf(reply) }), sentAt, at: Date.now() };
      attempts.push(attempt);
      const giveUp = n + 1 >= this.policy.maxAttempts || attempt.at - started >= this.policy.deadlineMs;
      if (!isRetryable(attempt) || giveUp) return { ...reply, attempts, startedAt: started, finishedAt: attempt.at };
      this.stats.retries++;
      const retryAfter = Number(reply.headers.get('retry-after'));
      const backoff = Math.min(this.policy.maxDelayMs, this.policy.baseDelayMs * 2 ** Math.min(n, 10));
      const delay = Number.isFinite(retryAfter) && retryAfter > 0 ? Math.min(retryAfter * 1000, this.policy.maxDelayMs) : backoff;
      await sleep(delay / 2 + Math.random() * (delay / 2));
    }
  }

  /** Creates the caller's profile; a 409 user_exists after a retried request means an earlier attempt made it. */
  async createUser(userId: string): Promise<void> {
    const token = await this.token(userId);
    const r = await this.send('POST', '/users', { token, body: { email: `${userId.replace(/[^\w.-]/g, '_')}@example.com`, name: userId.slice(0, 100) } });
    const retriedIntoExisting = r.status === 409 && r.body?.error?.code === 'user_exists' && r.attempts.length > 1;
    if (r.status !== 201 && !retriedIntoExisting) throw new Error(`POST /users for ${userId}: ${r.status} ${JSON.stringify(r.body)}`);
  }

  /** Available balance of one currency (0 when the user never held it), read as the owner. */
  async balance(userId: string, currency = 'USD'): Promise<number> {
    const r = await this.send('GET', `/users/${encodeURIComponent(userId)}`, { token: await this.token(userId) });
    if (r.status !== 200) throw new Error(`GET /users/${userId}: ${r.status} ${JSON.stringify(r.body)}`);
    const b = (r.body.balances as Array<{ currency: string; available: number }>).find((x) => x.currency === currency);
    return b?.available ?? 0;
  }

  /** The whole history of a user, paged through with cursors; `pages` counts the requests. */
  async history(userId: string, limit = 100): Promise<{ items: Array<Record<string, any>>; pages: number }> { // eslint-disable-line @typescript-eslint/no-explicit-any
    const token = await this.token(userId);
    const items: Array<Record<string, unknown>> = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const q: string = `limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const r = await this.send('GET', `/users/${encodeURIComponent(userId)}/transactions?${q}`, { token });
      if (r.status !== 200) throw new Error(`GET history of ${userId}: ${r.status} ${JSON.stringify(r.body)}`);
      pages++;
      items.push(...(r.body.data as Array<Record<string, unknown>>));
      cursor = r.body.nextCursor as string | null;
      if (pages > 10_000) throw new Error('history paging does not end');
    } while (cursor);
    return { items, pages };
  }
}

const codeOf = (r: Reply): string | undefined => {
  const code = (r.body as { error?: { code?: unknown } } | undefined)?.error?.code;
  return typeof code === 'string' ? code : undefined;
};
