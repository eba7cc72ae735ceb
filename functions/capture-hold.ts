import { captureBody } from '../src/http/schemas';
import { created, httpHandler } from '../src/http/http-handler';
import { publicTransaction } from '../src/http/resources';

export const handler = httpHandler({ auth: 'user', body: captureBody, idempotent: true }, async ({ app, caller, body, path, idempotencyKey }) => {
  const { transaction, replayed } = await app.useCases.captureHold(caller, { ...body, holdId: path.id ?? '', idempotencyKey });
  return created(publicTransaction(transaction), replayed);
});
