import { httpHandler, ok } from '../src/http/http-handler';
import { userResource } from '../src/http/resources';

export const handler = httpHandler({ auth: 'user' }, async ({ app, caller, path }) =>
  ok(userResource(await app.useCases.getUser(caller, path.id ?? ''))));
