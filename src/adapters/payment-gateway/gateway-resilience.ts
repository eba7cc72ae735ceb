// Retry + circuit breaker around single gateway attempts (cockatiel). The breaker sits
// inside the retry so it counts attempts: N consecutive failed attempts open it, and an
// open circuit is never retried — the call fails fast instead.
import {
  BrokenCircuitError, ConsecutiveBreaker, ExponentialBackoff, circuitBreaker, handleWhen, retry, wrap,
  type IBackoff, type IBackoffFactory, type IRetryBackoffContext,
} from 'cockatiel';
import { PaymentGatewayError, ServiceUnavailable } from '../../core/errors';

/** A failed attempt worth retrying: network error, timeout, 429 or 5xx. Counts against the circuit. */
export class TransientGatewayError extends Error {
  constructor(
    readonly reason: 'network' | 'timeout' | 'rate_limited' | 'server_error',
    /** From the gateway's Retry-After, when it sent one. */
    readonly retryAfterMs?: number,
  ) {
    super(`payment gateway attempt failed: ${reason}`);
    this.name = 'TransientGatewayError';
  }
}

export interface ResilienceOptions {
  maxRetries: number;
  circuitThreshold: number;
  circuitHalfOpenMs: number;
  /** First backoff delay; later ones grow exponentially with decorrelated jitter. */
  initialDelayMs: number;
  /** Cap on one backoff delay, Retry-After included (a Lambda has a deadline). */
  maxDelayMs: number;
}

type BackoffContext = IRetryBackoffContext<unknown>;

/** Exponential backoff with jitter, but never sooner than the gateway's Retry-After (capped). */
const honouringRetryAfter = (inner: IBackoffFactory<BackoffContext>, maxDelayMs: number): IBackoffFactory<BackoffContext> => {
  const step = (b: IBackoff<BackoffContext>, ctx: BackoffContext): IBackoff<BackoffContext> => {
    const hinted = 'error' in ctx.result && ctx.result.error instanceof TransientGatewayError ? ctx.result.error.retryAfterMs ?? 0 : 0;
    return { duration: Math.max(b.duration, Math.min(hinted, maxDelayMs)), next: (c) => step(b.next(c), c) };
  };
  return { next: (ctx) => step(inner.next(ctx), ctx) };
};

export interface GatewayPolicy {
  /**
   * Runs `attempt` with retries behind the shared circuit. Transient failures that
   * outlast the retries become PaymentGatewayError; an open circuit becomes
   * ServiceUnavailable when no attempt of this call reached the gateway. `id`: the
   * deposit or refund whose outcome the PaymentGatewayError leaves unknown.
   */
  run<T>(attempt: () => Promise<T>, id: string): Promise<T>;
}

const GIVE_UP_MESSAGES: Record<TransientGatewayError['reason'], string> = {
  network: 'Payment gateway unreachable',
  timeout: 'Payment gateway timed out',
  rate_limited: 'Payment processing error',
  server_error: 'Payment processing error',
};

export const makeGatewayPolicy = (o: ResilienceOptions): GatewayPolicy => {
  const transient = handleWhen((e) => e instanceof TransientGatewayError);
  const breaker = circuitBreaker(transient, {
    halfOpenAfter: o.circuitHalfOpenMs,
    breaker: new ConsecutiveBreaker(o.circuitThreshold),
  });
  const retries = retry(transient, {
    maxAttempts: o.maxRetries,
    backoff: honouringRetryAfter(new ExponentialBackoff({ initialDelay: o.initialDelayMs, maxDelay: o.maxDelayMs }), o.maxDelayMs),
  });
  const policy = wrap(retries, breaker);
  const retryAfterSeconds = Math.max(1, Math.ceil(o.circuitHalfOpenMs / 1000));

  return {
    async run(attempt, id) {
      let attempts = 0;
      try {
        return await policy.execute(() => {
          attempts++;
          return attempt();
        });
      } catch (err) {
        if (err instanceof BrokenCircuitError) {
          // Earlier attempts of this call may have moved money: the outcome is unknown, not "never sent".
          if (attempts > 0) throw new PaymentGatewayError('Payment gateway unavailable', id);
          throw new ServiceUnavailable('The payment gateway is unavailable, try again shortly', retryAfterSeconds);
        }
        if (err instanceof TransientGatewayError) throw new PaymentGatewayError(GIVE_UP_MESSAGES[err.reason], id);
        throw err;
      }
    },
  };
};
