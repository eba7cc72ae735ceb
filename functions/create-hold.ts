import { holdBody } from '../src/http/schemas';
import { created, httpHandler } from '../src/http/http-handler';
import { publicHold } from '../src/http/resources';

export const handler = httpHandler({ auth: 'user', body: holdBody, idempotent: true }, async ({ app, caller, body, path, idempotencyKey }) => {
  const { hold, replayed } = await app.useCases.createHold(caller, { ...body, userId: path.id ?? '', idempotencyKey });
  return created(publicHold(hold), replayed);
});
