// One structured log line and one metrics line per request: who, what, outcome.
// Never headers or bodies. Registered early, so on errors it runs after
// `errorResponse` has chosen the answer.
import { logger } from '../../observability/logger';
import { recordRequest } from '../../observability/metrics';
import { requestIdOf, type Middleware, type MiddyRequest } from './request-context';

const log = ({ event, context, response }: MiddyRequest): void => {
  const route = event.routeKey ?? `${event.requestContext?.http?.method} ${event.rawPath}`;
  const status = response?.statusCode ?? 0;
  const code = context.errorCode;
  const replayed = response?.headers?.['Idempotent-Replayed'] === 'true';
  logger.info('request', { requestId: requestIdOf(event, context), route, callerId: context.caller?.id, status, ...(code && { code }), ...(replayed && { replayed }) });
  recordRequest(route, code ?? 'ok', { replayed });
};

export const requestLog = (): Middleware => ({
  after: async (request) => log(request),
  onError: async (request) => log(request),
});
