// X-Ray tracing, loaded on the first invocation so only traced builds pay for it.
import type middy from '@middy/core';
import type { Middleware } from './request-context';

export const lazyTracing = (load: () => Promise<typeof import('../../observability/tracing')>): Middleware => {
  let loaded: Promise<middy.MiddlewareObj> | undefined;
  const get = () => (loaded ??= load().then((m) => m.tracingMiddleware()));
  return {
    before: async (request) => (await get()).before?.(request as middy.Request),
    after: async (request) => (await get()).after?.(request as middy.Request),
    onError: async (request) => (await get()).onError?.(request as middy.Request),
  };
};
