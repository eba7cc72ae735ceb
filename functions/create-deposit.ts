import { depositBody } from '../src/http/schemas';
import { created, httpHandler } from '../src/http/http-handler';
import { publicTransaction } from '../src/http/resources';

export const handler = httpHandler({ auth: 'user', body: depositBody, idempotent: true }, async ({ app, caller, body, path, idempotencyKey }) => {
  const { transaction, replayed } = await app.useCases.createDeposit(caller, { ...body, userId: path.id ?? '', idempotencyKey });
  return created(publicTransaction(transaction), replayed);
});
