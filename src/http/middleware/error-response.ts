// The one onError, registered last so it runs first: every error becomes the
// contract's error shape. Unknown errors are a bare 500, logged with their class.
import { DomainError, InvalidRequest } from '../../core/errors';
import { logger } from '../../observability/logger';
import { toErrorResponse } from '../error-mapping';
import { requestIdOf, respond, type Middleware } from './request-context';

/** Errors from outside the domain that still have a contract meaning. */
const translate = (err: unknown): unknown => {
  if (err instanceof DomainError) return err;
  const e = err as { cause?: { package?: unknown } } | null;
  if (e?.cause?.package === '@middy/http-json-body-parser') return new InvalidRequest('The body is not valid JSON');
  return err;
};

/** A log-safe description: the error's class and message (and its cause's), never request data. */
const describe = (err: unknown): Record<string, unknown> =>
  err instanceof Error
    ? { name: err.name, message: err.message, ...(err.cause instanceof Error && { cause: describe(err.cause) }) }
    : { name: typeof err };

export const errorResponse = (): Middleware => ({
  onError: async (request) => {
    const requestId = requestIdOf(request.event, request.context);
    const mapped = toErrorResponse(translate(request.error), requestId);
    if (mapped.statusCode >= 500) {
      logger.error('request failed', { requestId, status: mapped.statusCode, code: mapped.body.error.code, error: describe(request.error) });
    }
    request.context.errorCode = mapped.body.error.code;
    request.response = respond(mapped.statusCode, mapped.body, requestId, mapped.headers);
  },
});
