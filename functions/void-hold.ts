import { voidBody } from '../src/http/schemas';
import { httpHandler, ok } from '../src/http/http-handler';
import { publicHold } from '../src/http/resources';

export const handler = httpHandler({ auth: 'user', body: voidBody, bodyOptional: true, idempotent: true }, async ({ app, caller, path, idempotencyKey }) => {
  const { hold, replayed } = await app.useCases.voidHold(caller, { holdId: path.id ?? '', idempotencyKey });
  return ok(publicHold(hold), replayed ? { 'Idempotent-Replayed': 'true' } : undefined);
});
