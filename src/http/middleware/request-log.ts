// One structured log line and one metrics line per request: who, what, outcome.
// Never headers or bodies. Registered early, so on errors it runs after
// `errorResponse` has chosen the answer.
import { logger } from '../../observability/logger';
import { recordRequest } from '../../observability/metrics';
import { requestIdOf, type Middleware, type MiddyRequest } from './request-context';

/** Also used by the one route served outside the middy wrapper (GET /openapi.json). */
export const logRequest = ({ event, context, response }: Pick<MiddyRequest, 'event' | 'context' | 'response'>): void => {
  const route = event.routeKey ?? `${event.requestContext?.http?.method} ${event.rawPath}`;
  const status = response?.statusCode ?? 0;
  const code = context.errorCode;
  const replayed = response?.headers?.['Idempotent-Replayed'] === 'true';
  logger.info('request', { requestId: requestIdOf(event, context), route, callerId: context.caller?.id, status, ...(code && { code }), ...(replayed && { replayed }) });
  recordRequest(route, code ?? 'ok', { replayed });
};

export const requestLog = (): Middleware => ({
  after: async (request) => logRequest(request),
  onError: async (request) => logRequest(request),
});
