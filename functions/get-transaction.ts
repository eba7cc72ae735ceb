import { httpHandler, ok } from '../src/http/http-handler';
import { transactionResource } from '../src/http/resources';

export const handler = httpHandler({ auth: 'user' }, async ({ app, caller, path }) =>
  ok(transactionResource(await app.useCases.getTransaction(caller, path.id ?? ''))));
