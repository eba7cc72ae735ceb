import { createUserBody } from '../src/http/schemas';
import { created, httpHandler } from '../src/http/http-handler';

export const handler = httpHandler({ auth: 'user', body: createUserBody }, async ({ app, caller, body }) =>
  created(await app.useCases.createUser(caller, body)));
