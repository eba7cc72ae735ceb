// The middy wrapper every HTTP function uses: it only composes the middlewares of
// src/http/middleware, in the order a request meets them: (tracing) → request log →
// authentication → path id → body guard → JSON parser → object check → validation
// (query, Idempotency-Key, body) → the handler → the one onError, registered last.
// (The payment webhook takes only its start, routeChain: see payment-webhook.ts.)
// After a write commits, the events it left in the outbox are published (publish-events.ts).
import middy from '@middy/core';
import httpJsonBodyParser from '@middy/http-json-body-parser';
import type * as z from 'zod/mini';
import { app, type App } from '../composition-root';
import type { Caller } from '../core/use-cases';
import { authenticate } from './middleware/authenticate';
import { bodyGuard, jsonObjectBody } from './middleware/body-guard';
import { errorResponse } from './middleware/error-response';
import { lazyTracing } from './middleware/lazy-tracing';
import { pathIds } from './middleware/path-ids';
import { publishEvents } from './middleware/publish-events';
import { requestIdOf, respond, type Event, type Result, type WalletContext } from './middleware/request-context';
import { requestLog } from './middleware/request-log';
import { validate } from './middleware/validate';

export { MAX_BODY_BYTES } from './middleware/body-guard';

export interface HttpResult {
  statusCode: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface Request<B, Q> {
  app: App;
  caller: Caller;
  body: B;
  query: Q;
  path: Record<string, string>;
  idempotencyKey: string | undefined;
  requestId: string;
}

interface Spec<BS extends z.ZodMiniType | undefined, QS extends z.ZodMiniType | undefined> {
  auth: 'none' | 'user';
  body?: BS;
  query?: QS;
  /** Accepts an Idempotency-Key header. */
  idempotent?: boolean;
  /** A request without a body is taken as `{}` (the body schema still judges any body sent). */
  bodyOptional?: boolean;
}

type Out<S> = S extends z.ZodMiniType ? z.output<S> : undefined;

const ANONYMOUS: Caller = { id: '', isAdmin: false };

/**
 * Replaced by scripts/build.mjs (BUILD_TRACING=true → true); undefined under jest.
 * Named directly in the condition below so that esbuild drops the tracer — and
 * its X-Ray SDK — from bundles built without tracing.
 */
declare const __WALLET_TRACING__: boolean | undefined;

export const ok = (body: unknown, headers?: Record<string, string>): HttpResult => ({ statusCode: 200, body, ...(headers && { headers }) });
export const created = (body: unknown, replayed = false): HttpResult => ({
  statusCode: 201,
  body,
  ...(replayed && { headers: { 'Idempotent-Replayed': 'true' } }),
});

/** What every route starts with, whatever it does next: (tracing) → request log. */
export const routeChain = (base: (event: Event, context: WalletContext) => Promise<Result>) => {
  const chain = middy<Event, Result, Error, WalletContext>(base);
  // The import() sits inside the condition: esbuild drops it (and the X-Ray SDK) at parse time.
  if (typeof __WALLET_TRACING__ !== 'undefined' && __WALLET_TRACING__) chain.use(lazyTracing(() => import('../observability/tracing')));
  return chain.use(requestLog()).use(publishEvents());
};

export const httpHandler = <BS extends z.ZodMiniType | undefined = undefined, QS extends z.ZodMiniType | undefined = undefined>(
  spec: Spec<BS, QS>,
  fn: (req: Request<Out<BS>, Out<QS>>) => Promise<HttpResult>,
) => {
  const base = async (event: Event, context: WalletContext): Promise<Result> => {
    const requestId = requestIdOf(event, context);
    const result = await fn({
      app: context.app ?? (await app()),
      caller: context.caller ?? ANONYMOUS,
      body: context.input?.body as Out<BS>,
      query: context.input?.query as Out<QS>,
      path: (event.pathParameters ?? {}) as Record<string, string>,
      idempotencyKey: context.input?.idempotencyKey,
      requestId,
    });
    return respond(result.statusCode, result.body, requestId, result.headers);
  };

  const chain = routeChain(base);
  if (spec.auth === 'user') chain.use(authenticate());
  chain.use(pathIds());
  if (spec.body) chain.use(bodyGuard({ optional: spec.bodyOptional })).use(httpJsonBodyParser()).use(jsonObjectBody());
  return chain.use(validate(spec)).use(errorResponse());
};
