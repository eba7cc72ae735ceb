// What the middlewares share about one request. It lives on middy's per-request
// context, so one process may serve several requests of a function at once
// (serverless-offline --useInProcess) without any module-level state.
import type middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { App } from '../../composition-root';
import type { ErrorCode } from '../../core/errors';
import type { Caller } from '../../core/use-cases';

export type Event = APIGatewayProxyEventV2;
export type Result = APIGatewayProxyStructuredResultV2;

export interface WalletContext extends Context {
  /** Set by `authenticate` on routes that need a caller. */
  caller?: Caller;
  app?: App;
  /** Set by `validate`: the request's parsed input. */
  input?: { body: unknown; query: unknown; idempotencyKey: string | undefined };
  /** Set by `verifyWebhook`: the body's bytes exactly as received, signature checked. */
  rawBody?: Buffer;
  /** Set by `errorResponse`: the contract code the request failed with. */
  errorCode?: ErrorCode;
}

export type Middleware = middy.MiddlewareObj<Event, Result, Error, WalletContext>;
export type MiddyRequest = middy.Request<Event, Result, Error, WalletContext>;

export const requestIdOf = (event: Event, context: Context): string =>
  context?.awsRequestId || event.requestContext?.requestId || 'unknown';

/** A header by its lower-case name, whatever case the client used. */
export const header = (event: Event, name: string): string | undefined => {
  const h = event.headers ?? {};
  return h[name] ?? Object.entries(h).find(([k]) => k.toLowerCase() === name)?.[1];
};

export const respond = (statusCode: number, body: unknown, requestId: string, extra: Record<string, string> = {}): Result => ({
  statusCode,
  headers: { 'content-type': 'application/json', 'x-request-id': requestId, ...extra },
  ...(body !== undefined && { body: JSON.stringify(body) }),
});
