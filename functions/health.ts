import { httpHandler, ok } from '../src/http/http-handler';
import { publicHealth } from '../src/http/resources';

export const handler = httpHandler({ auth: 'none' }, async ({ app }) => {
  const status = await app.useCases.checkHealth();
  // Health answers in its own shape, not the error shape, when storage is down.
  return status === 'ok' ? ok(publicHealth(status)) : { statusCode: 503, body: publicHealth(status), headers: { 'Retry-After': '5' } };
});
