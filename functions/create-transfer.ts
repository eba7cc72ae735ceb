import { transferBody } from '../src/http/schemas';
import { created, httpHandler } from '../src/http/http-handler';
import { publicTransaction } from '../src/http/resources';

export const handler = httpHandler({ auth: 'user', body: transferBody, idempotent: true }, async ({ app, caller, body, idempotencyKey }) => {
  const { transaction, replayed } = await app.useCases.createTransfer(caller, { ...body, idempotencyKey });
  return created(publicTransaction(transaction), replayed);
});
