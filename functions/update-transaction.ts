import { httpHandler, ok } from '../src/http/http-handler';
import { publicTransaction } from '../src/http/resources';
import { updateTransactionBody } from '../src/http/schemas';

export const handler = httpHandler({ auth: 'user', body: updateTransactionBody }, async ({ app, caller, body, path }) =>
  ok(publicTransaction(await app.useCases.updateTransaction(caller, { id: path.id ?? '', ...body }))));
