import { httpHandler, ok } from '../src/http/http-handler';
import { publicTransaction } from '../src/http/resources';

export const handler = httpHandler({ auth: 'user' }, async ({ app, caller, path }) =>
  ok(publicTransaction(await app.useCases.getTransaction(caller, path.id ?? ''))));
