// The middy wrapper every HTTP function uses. Order of work for a request:
// request id → authentication → body guard (413/415/400) → JSON parsing →
// schema validation → the handler's use case. One onError, registered last,
// maps every error to the contract's shape; handlers contain no try/catch.
import middy from '@middy/core';
import httpJsonBodyParser from '@middy/http-json-body-parser';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type * as z from 'zod/mini';
import { app, type App } from '../composition-root';
import { isAppSecretError } from '../adapters/secrets/app-secret-error';
import { DomainError, InvalidRequest, PayloadTooLarge, ServiceUnavailable, UnsupportedMediaType } from '../core/errors';
import type { Transaction } from '../core/transaction';
import type { Caller } from '../core/use-cases';
import { makeVerifier, type VerifyCaller } from './auth';
import { toErrorResponse } from './error-mapping';
import { logger } from '../observability/logger';
import { recordAmountMoved, recordRequest } from '../observability/metrics';
import { parseWith } from './validation';

export const MAX_BODY_BYTES = 16 * 1024;
const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;.*)?$/i;
const IDEMPOTENCY_KEY = /^[\x20-\x7e]{1,255}$/;

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
}

type Out<S> = S extends z.ZodMiniType ? z.output<S> : undefined;
type Event = APIGatewayProxyEventV2;
type Result = APIGatewayProxyStructuredResultV2;

const ANONYMOUS: Caller = { id: '', isAdmin: false };

/**
 * Replaced by scripts/build.mjs (BUILD_TRACING=true → true); undefined under jest.
 * Named directly in the condition below so that esbuild drops the tracer — and
 * its X-Ray SDK — from bundles built without tracing.
 */
declare const __WALLET_TRACING__: boolean | undefined;

/** Loads the tracer on the first invocation, so only traced builds pay for it. */
const lazyTracing = (load: () => Promise<typeof import('../observability/tracing')>): middy.MiddlewareObj<Event, Result> => {
  let loaded: Promise<middy.MiddlewareObj> | undefined;
  const get = () => (loaded ??= load().then((m) => m.tracingMiddleware()));
  return {
    before: async (request) => (await get()).before?.(request as middy.Request),
    after: async (request) => (await get()).after?.(request as middy.Request),
    onError: async (request) => (await get()).onError?.(request as middy.Request),
  };
};

export const ok = (body: unknown, headers?: Record<string, string>): HttpResult => ({ statusCode: 200, body, ...(headers && { headers }) });
export const created = (body: unknown, replayed = false): HttpResult => ({
  statusCode: 201,
  body,
  ...(replayed && { headers: { 'Idempotent-Replayed': 'true' } }),
});

const header = (event: Event, name: string): string | undefined => {
  const h = event.headers ?? {};
  return h[name] ?? Object.entries(h).find(([k]) => k.toLowerCase() === name)?.[1];
};

const rawBody = (event: Event): string | undefined =>
  event.body === undefined || event.body === null ? undefined
    : event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;

/** Verifiers are cached per App, so JWKS keys are fetched once per warm process. */
const verifiers = new WeakMap<App, VerifyCaller>();
const verifierFor = (a: App): VerifyCaller => {
  let v = verifiers.get(a);
  if (!v) {
    verifiers.set(a, (v = makeVerifier(a.config.auth)));
    logger.setLogLevel(a.config.logLevel);
  }
  return v;
};

const respond = (statusCode: number, body: unknown, requestId: string, extra: Record<string, string> = {}): Result => ({
  statusCode,
  headers: { 'content-type': 'application/json', 'x-request-id': requestId, ...extra },
  ...(body !== undefined && { body: JSON.stringify(body) }),
});

const requestIdOf = (event: Event, context: Context): string =>
  context?.awsRequestId || event.requestContext?.requestId || 'unknown';

export const httpHandler = <BS extends z.ZodMiniType | undefined = undefined, QS extends z.ZodMiniType | undefined = undefined>(
  spec: Spec<BS, QS>,
  fn: (req: Request<Out<BS>, Out<QS>>) => Promise<HttpResult>,
) => {
  // Per-request state, keyed by the event object: one process may serve several
  // requests of this function at once (serverless-offline --useInProcess).
  const authenticated = new WeakMap<Event, { app: App; caller: Caller }>();

  const base = async (event: Event, context: Context): Promise<Result> => {
    const requestId = requestIdOf(event, context);
    const query = spec.query ? parseWith(spec.query, event.queryStringParameters ?? {}) : undefined;
    const key = header(event, 'idempotency-key');
    if (spec.idempotent && key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
      throw new InvalidRequest('Idempotency-Key must be 1–255 printable ASCII characters', 'Idempotency-Key');
    }
    const body = spec.body ? parseWith(spec.body, event.body) : undefined;
    const auth = authenticated.get(event);
    const result = await fn({
      app: auth?.app ?? (await app()),
      caller: auth?.caller ?? ANONYMOUS,
      body: body as Out<BS>,
      query: query as Out<QS>,
      path: (event.pathParameters ?? {}) as Record<string, string>,
      idempotencyKey: spec.idempotent ? key : undefined,
      requestId,
    });
    if (result.statusCode === 201 && !result.headers?.['Idempotent-Replayed']) observeMovement(result.body);
    return respond(result.statusCode, result.body, requestId, result.headers);
  };

  const chain = middy<Event, Result>(base);
  // The import() sits inside the condition: esbuild drops it (and the X-Ray SDK) at parse time.
  if (typeof __WALLET_TRACING__ !== 'undefined' && __WALLET_TRACING__) chain.use(lazyTracing(() => import('../observability/tracing')));
  chain
    .after(async (request) => {
      const response = request.response;
      logRequest(request.event, request.context, response?.statusCode ?? 0, authenticated.get(request.event)?.caller, undefined, response?.headers?.['Idempotent-Replayed'] === 'true');
    })
    .before(async (request) => {
      // Authentication first: an anonymous caller learns nothing about bodies.
      if (spec.auth === 'none') return;
      const application = await app();
      const caller = await verifierFor(application)(header(request.event, 'authorization'));
      authenticated.set(request.event, { app: application, caller });
    })
    .before(async (request) => {
      if (!spec.body) return;
      const body = rawBody(request.event);
      if (body === undefined || body.length === 0) throw new InvalidRequest('A JSON object body is required');
      if (Buffer.byteLength(body, 'utf8') > MAX_BODY_BYTES) throw new PayloadTooLarge(MAX_BODY_BYTES);
      if (!JSON_TYPE.test(header(request.event, 'content-type') ?? '')) throw new UnsupportedMediaType();
      // Media types are case-insensitive; the JSON parser's own check is not.
      request.event.headers = { ...request.event.headers, 'content-type': 'application/json' };
    });
  if (spec.body) chain.use(httpJsonBodyParser());
  chain.before(async (request) => {
    if (spec.body && (request.event.body === null || typeof request.event.body !== 'object' || Array.isArray(request.event.body))) {
      throw new InvalidRequest('The body must be a JSON object');
    }
  });
  chain.onError(async (request) => {
    const requestId = requestIdOf(request.event, request.context);
    const err = translate(request.error);
    const mapped = toErrorResponse(err, requestId);
    if (mapped.statusCode >= 500) {
      logger.error('request failed', { requestId, status: mapped.statusCode, code: mapped.body.error.code, error: describe(request.error) });
    }
    request.response = respond(mapped.statusCode, mapped.body, requestId, mapped.headers);
    logRequest(request.event, request.context, mapped.statusCode, authenticated.get(request.event)?.caller, mapped.body.error.code, mapped.headers['Idempotent-Replayed'] === 'true');
  });
  return chain;
};

/** One structured log line and one metrics line per request: who, what, outcome. Never headers or bodies. */
const logRequest = (event: Event, context: Context, status: number, caller: Caller | undefined, code?: string, replayed = false): void => {
  const route = event.routeKey ?? `${event.requestContext?.http?.method} ${event.rawPath}`;
  logger.info('request', { requestId: requestIdOf(event, context), route, callerId: caller?.id, status, ...(code && { code }), ...(replayed && { replayed }) });
  recordRequest(route, code ?? 'ok', { replayed });
};

/** Completed money movements feed the AmountMoved metric. */
const observeMovement = (body: unknown): void => {
  const tx = body as Partial<Transaction> | undefined;
  if (tx?.status === 'completed' && tx.type && tx.currency && typeof tx.amount === 'number') recordAmountMoved(tx.type, tx.currency, tx.amount);
};

/** Errors from outside the domain that still have a contract meaning. */
const translate = (err: unknown): unknown => {
  if (err instanceof DomainError) return err;
  const e = err as { statusCode?: unknown; cause?: { package?: unknown } } | null;
  if (e?.cause?.package === '@middy/http-json-body-parser') return new InvalidRequest('The body is not valid JSON');
  if (isAppSecretError(err)) return new ServiceUnavailable('Configuration is temporarily unavailable, try again shortly');
  return err;
};

/** A log-safe description: the error's class and message, never request data. */
const describe = (err: unknown): Record<string, string> =>
  err instanceof Error ? { name: err.name, message: err.message } : { name: typeof err };
