import { httpHandler, ok } from '../src/http/http-handler';
import { publicUser } from '../src/http/resources';

export const handler = httpHandler({ auth: 'user' }, async ({ app, caller, path }) =>
  ok(publicUser(await app.useCases.getUser(caller, path.id ?? ''))));
