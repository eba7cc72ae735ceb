import { refundBody } from '../src/http/schemas';
import { created, httpHandler } from '../src/http/http-handler';
import { publicTransaction } from '../src/http/resources';

export const handler = httpHandler({ auth: 'user', body: refundBody, idempotent: true }, async ({ app, caller, body, path, idempotencyKey }) => {
  const { transaction, replayed } = await app.useCases.createRefund(caller, { ...body, transactionId: path.id ?? '', idempotencyKey });
  return created(publicTransaction(transaction), replayed);
});
