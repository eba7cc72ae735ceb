import { httpHandler, ok } from '../src/http/http-handler';
import { healthResource } from '../src/http/resources';

export const handler = httpHandler({ auth: 'none' }, async ({ app }) => {
  const status = await app.useCases.checkHealth();
  // Health answers in its own shape, not the error shape, when storage is down.
  return status === 'ok' ? ok(healthResource(status)) : { statusCode: 503, body: healthResource(status), headers: { 'Retry-After': '5' } };
});
