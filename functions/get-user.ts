import { httpHandler, ok } from '../src/http/http-handler';

export const handler = httpHandler({ auth: 'user' }, async ({ app, caller, path }) =>
  ok(await app.useCases.getUser(caller, path.id ?? '')));
