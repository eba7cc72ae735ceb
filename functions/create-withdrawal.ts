import { withdrawalBody } from '../src/http/schemas';
import { created, httpHandler } from '../src/http/http-handler';
import { publicTransaction } from '../src/http/resources';

export const handler = httpHandler({ auth: 'user', body: withdrawalBody, idempotent: true }, async ({ app, caller, body, path, idempotencyKey }) => {
  const { transaction, replayed } = await app.useCases.createWithdrawal(caller, { ...body, userId: path.id ?? '', idempotencyKey });
  return created(publicTransaction(transaction), replayed);
});
