// Builds the events API Gateway HTTP APIs (payload format 2.0) hand to a Lambda:
// lower-cased headers, rawPath/rawQueryString next to the parsed forms, the
// matched routeKey and path parameters, and a Lambda Context with a request id.
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD' | 'OPTIONS';

export interface EventInit {
  method: Method;
  /** The concrete path, e.g. `/users/u-1/deposits`. */
  path: string;
  /** The matched route, e.g. `POST /users/{id}/deposits`; `$default` for the catch-all. */
  routeKey?: string;
  pathParameters?: Record<string, string>;
  /** Query string parameters; encoded into rawQueryString too. */
  query?: Record<string, string>;
  /** Used verbatim as rawQueryString (and parsed) when given. */
  rawQueryString?: string;
  headers?: Record<string, string | undefined>;
  /** A string is sent verbatim; anything else is JSON-encoded. `undefined`: no body. */
  body?: unknown;
  /** Sets `authorization: Bearer <token>`. */
  token?: string;
  /** Base64-encode the body (as API Gateway does for binary media types). */
  base64?: boolean;
  /** Default `application/json` when a body is present; `null` removes the header. */
  contentType?: string | null;
  sourceIp?: string;
}

const parseQuery = (raw: string): Record<string, string> | undefined => {
  if (!raw) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(raw)) {
    // API Gateway joins repeated keys with a comma.
    out[k] = out[k] === undefined ? v : `${out[k]},${v}`;
  }
  return out;
};

/** An APIGatewayProxyEventV2 exactly as an HTTP API sends it. */
export const apiGatewayEvent = (init: EventInit): APIGatewayProxyEventV2 => {
  const rawQueryString = init.rawQueryString ?? new URLSearchParams(init.query ?? {}).toString();
  const bodyText = init.body === undefined ? undefined : typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
  const headers: Record<string, string> = {
    accept: 'application/json',
    host: 'abc123.execute-api.eu-west-1.amazonaws.com',
    'user-agent': 'wallet-tests/1.0',
    'x-forwarded-for': init.sourceIp ?? '203.0.113.7',
    'x-forwarded-port': '443',
    'x-forwarded-proto': 'https',
  };
  if (bodyText !== undefined) {
    headers['content-length'] = String(Buffer.byteLength(bodyText, 'utf8'));
    if (init.contentType !== null) headers['content-type'] = init.contentType ?? 'application/json';
  }
  if (init.token !== undefined) headers.authorization = `Bearer ${init.token}`;
  for (const [k, v] of Object.entries(init.headers ?? {})) {
    if (v === undefined) delete headers[k.toLowerCase()];
    else headers[k.toLowerCase()] = v;
  }
  const routeKey = init.routeKey ?? '$default';
  const now = Date.now();
  const requestId = `${randomUUID().slice(0, 8)}=`;
  return {
    version: '2.0',
    routeKey,
    rawPath: init.path,
    rawQueryString,
    ...(headers.cookie !== undefined && { cookies: headers.cookie.split(/;\s*/) }),
    headers,
    ...(parseQuery(rawQueryString) !== undefined && { queryStringParameters: parseQuery(rawQueryString) }),
    ...(init.pathParameters !== undefined && { pathParameters: init.pathParameters }),
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      domainName: 'abc123.execute-api.eu-west-1.amazonaws.com',
      domainPrefix: 'abc123',
      http: {
        method: init.method,
        path: init.path,
        protocol: 'HTTP/1.1',
        sourceIp: init.sourceIp ?? '203.0.113.7',
        userAgent: 'wallet-tests/1.0',
      },
      requestId,
      routeKey,
      stage: '$default',
      time: new Date(now).toUTCString(),
      timeEpoch: now,
    },
    ...(bodyText !== undefined && {
      body: init.base64 ? Buffer.from(bodyText, 'utf8').toString('base64') : bodyText,
    }),
    isBase64Encoded: Boolean(init.base64 && bodyText !== undefined),
  };
};

/** A Lambda Context with a fresh awsRequestId. */
export const lambdaContext = (functionName = 'wallet-service-test'): Context => {
  const awsRequestId = randomUUID();
  const deadline = Date.now() + 29_000;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:eu-west-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `2024/01/01/[$LATEST]${awsRequestId.replace(/-/g, '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
};
