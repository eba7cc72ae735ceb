// X-Ray tracing through Powertools' tracer: a segment per invocation, annotated with
// the route. Only bundled when built with BUILD_TRACING=true (see http-handler.ts);
// at run time Powertools honours POWERTOOLS_TRACE_ENABLED.
import type middy from '@middy/core';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';

export const tracer = new Tracer({ serviceName: 'wallet-service' });

/** The middy middleware, with the route as a searchable annotation. */
export const tracingMiddleware = (): middy.MiddlewareObj => {
  const capture = captureLambdaHandler(tracer, { captureResponse: false });
  return {
    before: async (request) => {
      await capture.before?.(request);
      const event = request.event as { routeKey?: string } | undefined;
      if (event?.routeKey) tracer.putAnnotation('route', event.routeKey);
    },
    after: capture.after,
    onError: capture.onError,
  };
};
