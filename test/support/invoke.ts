// Invokes the Lambda handlers of functions/*.ts the way API Gateway does: one real
// v2 event per call, a fresh Context, and the structured result parsed back.
// Handlers are loaded lazily so a test file can set process.env first.
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { apiGatewayEvent, lambdaContext, type EventInit, type Method } from './api-gateway-event';

type LambdaHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

interface RouteDef {
  method: Method;
  /** Path template as in the contract. */
  path: string;
  load: () => { handler: unknown };
}

/* eslint-disable @typescript-eslint/no-require-imports */
export const ROUTES = {
  health: { method: 'GET', path: '/health', load: () => require('../../functions/health') },
  openapi: { method: 'GET', path: '/openapi.json', load: () => require('../../functions/openapi') },
  createUser: { method: 'POST', path: '/users', load: () => require('../../functions/create-user') },
  getUser: { method: 'GET', path: '/users/{id}', load: () => require('../../functions/get-user') },
  createDeposit: { method: 'POST', path: '/users/{id}/deposits', load: () => require('../../functions/create-deposit') },
  createWithdrawal: { method: 'POST', path: '/users/{id}/withdrawals', load: () => require('../../functions/create-withdrawal') },
  createTransfer: { method: 'POST', path: '/transfers', load: () => require('../../functions/create-transfer') },
  getTransaction: { method: 'GET', path: '/transactions/{id}', load: () => require('../../functions/get-transaction') },
  updateTransaction: { method: 'PATCH', path: '/transactions/{id}', load: () => require('../../functions/update-transaction') },
  listTransactions: { method: 'GET', path: '/users/{id}/transactions', load: () => require('../../functions/list-transactions') },
  paymentWebhook: { method: 'POST', path: '/webhooks/payments', load: () => require('../../functions/receive-payment-webhook') },
  createHold: { method: 'POST', path: '/users/{id}/holds', load: () => require('../../functions/create-hold') },
  getHold: { method: 'GET', path: '/holds/{id}', load: () => require('../../functions/get-hold') },
  listHolds: { method: 'GET', path: '/users/{id}/holds', load: () => require('../../functions/list-holds') },
  captureHold: { method: 'POST', path: '/holds/{id}/capture', load: () => require('../../functions/capture-hold') },
  voidHold: { method: 'POST', path: '/holds/{id}/void', load: () => require('../../functions/void-hold') },
  createRefund: { method: 'POST', path: '/transactions/{id}/refunds', load: () => require('../../functions/create-refund') },
} satisfies Record<string, RouteDef>;
/* eslint-enable @typescript-eslint/no-require-imports */

export type RouteName = keyof typeof ROUTES;
export const ROUTE_NAMES = Object.keys(ROUTES) as RouteName[];
/** Routes whose path has `{id}`. */
export const routeHasId = (route: RouteName): boolean => ROUTES[route].path.includes('{id}');

export interface HttpResponse {
  status: number;
  /** Header names lower-cased. */
  headers: Record<string, string>;
  /** Parsed JSON body (undefined when there is none). */
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** The body exactly as returned. */
  raw: string;
  /** The awsRequestId of the Context the handler was given. */
  awsRequestId: string;
}

export type CallInit = Omit<EventInit, 'method' | 'path' | 'routeKey' | 'pathParameters'> & {
  /** The `{id}` path parameter. */
  id?: string;
};

const handlerOf = (def: RouteDef): LambdaHandler => def.load().handler as LambdaHandler;

const toResponse = (result: APIGatewayProxyStructuredResultV2 | string | undefined, awsRequestId: string): HttpResponse => {
  if (result === undefined || typeof result === 'string') {
    throw new Error(`handler returned ${typeof result}; HTTP API handlers here return structured results`);
  }
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(result.headers ?? {})) headers[k.toLowerCase()] = String(v);
  const raw = result.body === undefined ? '' : result.isBase64Encoded ? Buffer.from(result.body, 'base64').toString('utf8') : result.body;
  let body: unknown;
  if (raw !== '') {
    try {
      body = JSON.parse(raw);
    } catch {
      throw new Error(`response body is not JSON: ${raw.slice(0, 200)}`);
    }
  }
  return { status: result.statusCode ?? 200, headers, body, raw, awsRequestId };
};

/** Sends one event to a handler and parses its answer. */
export const invokeHandler = async (handler: LambdaHandler, event: APIGatewayProxyEventV2, context: Context = lambdaContext()): Promise<HttpResponse> =>
  toResponse(await handler(event, context), context.awsRequestId);

/** encodeURIComponent, which throws on an unpaired surrogate: rawPath then carries U+FFFD (the id itself is sent as is). */
const encodePathSegment = (id: string): string => {
  try {
    return encodeURIComponent(id);
  } catch {
    return encodeURIComponent(id.replace(/[\uD800-\uDFFF]/g, '\uFFFD'));
  }
};

/** Calls a contract route through its Lambda handler with a real v2 event. */
export const call = async (route: RouteName, init: CallInit = {}): Promise<HttpResponse> => {
  const def: RouteDef = ROUTES[route];
  const { id, ...rest } = init;
  if (routeHasId(route) && id === undefined) throw new Error(`${route} needs an id`);
  const path = def.path.replace('{id}', encodePathSegment(id ?? ''));
  const event = apiGatewayEvent({
    ...rest,
    method: def.method,
    path,
    routeKey: `${def.method} ${def.path}`,
    ...(id !== undefined && { pathParameters: { id } }),
  });
  return invokeHandler(handlerOf(def), event);
};

/** An unmatched request, as API Gateway sends it to the `$default` catch-all (functions/not-found.ts). */
export const callUnmatched = async (method: Method, path: string, init: Omit<EventInit, 'method' | 'path' | 'routeKey'> = {}): Promise<HttpResponse> => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const handler = (require('../../functions/not-found') as { handler: unknown }).handler as LambdaHandler;
  return invokeHandler(handler, apiGatewayEvent({ ...init, method, path, routeKey: '$default' }));
};

// ---------------------------------------------------------------------------
// Assertions on the contract's response shapes.

const ERROR_FIELDS = new Set(['code', 'message', 'param', 'requestId', 'transactionId']);

/** Every response: JSON content type and x-request-id = the Lambda request id. */
export const expectCommonHeaders = (res: HttpResponse): void => {
  expect(res.headers['content-type']).toMatch(/^application\/json\b/);
  expect(res.headers['x-request-id']).toBe(res.awsRequestId);
};

/** The contract's error shape, exactly: `{ error: { code, message, param?, requestId, transactionId? (402 only) } }`. */
export const expectError = (res: HttpResponse, status: number, code: string, param?: string): void => {
  expect({ status: res.status, code: res.body?.error?.code, param: res.body?.error?.param }).toEqual({ status, code, param });
  expectErrorShape(res);
};

/** The error shape without pinning the status or code. */
export const expectErrorShape = (res: HttpResponse): void => {
  expectCommonHeaders(res);
  expect(Object.keys(res.body ?? {})).toEqual(['error']);
  const e = res.body.error as Record<string, unknown>;
  for (const k of Object.keys(e)) expect(ERROR_FIELDS.has(k)).toBe(true);
  expect(typeof e.code).toBe('string');
  expect(typeof e.message).toBe('string');
  expect((e.message as string).length).toBeGreaterThan(0);
  expect(e.requestId).toBe(res.headers['x-request-id']);
  if (e.param !== undefined) expect(typeof e.param).toBe('string');
  // 402 names the failed deposit; 502 the deposit left pending for a retry with the same key.
  if (res.status === 402 || res.status === 502) expect(typeof e.transactionId).toBe('string');
  else expect(e).not.toHaveProperty('transactionId');
};

/** A success with the given status and common headers; returns the body. */
export const expectOk = (res: HttpResponse, status: 200 | 201 = 200): any => { // eslint-disable-line @typescript-eslint/no-explicit-any
  if (res.status !== status) throw new Error(`expected ${status}, got ${res.status}: ${res.raw.slice(0, 500)}`);
  expectCommonHeaders(res);
  return res.body;
};

// ---------------------------------------------------------------------------
// Scenario helpers: users with profiles and money, and what storage holds for them.

export interface TestUser {
  id: string;
  token: string;
}

/** A fresh user id (the memory store is shared per process) and its token; `profile` also POSTs /users. */
export const newUser = async (label = 'u', profile = true): Promise<TestUser> => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { userToken } = require('./tokens') as typeof import('./tokens');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { randomUUID } = require('node:crypto') as typeof import('node:crypto');
  const id = `${label}-${randomUUID()}`;
  const user = { id, token: await userToken(id) };
  if (profile) {
    expectOk(await call('createUser', { token: user.token, body: { email: `${label}@example.com`, name: `User ${label}` } }), 201);
  }
  return user;
};

/** A completed deposit of `amount` (tok_ok). */
export const fund = async (user: TestUser, amount: number, currency = 'USD'): Promise<any> => // eslint-disable-line @typescript-eslint/no-explicit-any
  expectOk(await call('createDeposit', { id: user.id, token: user.token, body: { amount, currency } }), 201);

export interface StoredState {
  balances: Record<string, Array<{ currency: string; available: number; held: number }>>;
  histories: Record<string, Array<{ id: string; status: string; amount: number; refundedAmount: number; metadata: Record<string, string> }>>;
  /** The holds each user pays, as of now. */
  holds: Record<string, Array<{ id: string; status: string; amount: number; capturedAmount: number }>>;
}

/** Balances and full histories of `userIds`, read straight from storage (not through HTTP). */
export const storedState = async (userIds: string[]): Promise<StoredState> => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { app } = require('../../src/composition-root') as typeof import('../../src/composition-root');
  const { storage } = await app();
  const state: StoredState = { balances: {}, histories: {}, holds: {} };
  for (const id of userIds) {
    state.balances[id] = await storage.ledger.getBalances(id);
    const rows = await storage.ledger.listTransactions({ userId: id, limit: 10_000 });
    state.histories[id] = rows.map((t) => ({ id: t.id, status: t.status, amount: t.amount, refundedAmount: t.refundedAmount ?? 0, metadata: t.metadata }));
    const holds = await storage.ledger.listHolds({ userId: id, limit: 10_000, now: new Date().toISOString() });
    state.holds[id] = holds.map((h) => ({ id: h.id, status: h.status, amount: h.amount, capturedAmount: h.capturedAmount }));
  }
  return state;
};

/** Available balance of one currency (0 when never held). */
export const balanceOf = async (userId: string, currency = 'USD'): Promise<number> =>
  (await storedState([userId])).balances[userId]?.find((b) => b.currency === currency)?.available ?? 0;

/** Money held by live holds in one currency (0 when never held). */
export const heldOf = async (userId: string, currency = 'USD'): Promise<number> =>
  (await storedState([userId])).balances[userId]?.find((b) => b.currency === currency)?.held ?? 0;
