import { createUserBody } from '../src/http/schemas';
import { created, httpHandler } from '../src/http/http-handler';
import { publicUser } from '../src/http/resources';

export const handler = httpHandler({ auth: 'user', body: createUserBody }, async ({ app, caller, body }) =>
  created(publicUser(await app.useCases.createUser(caller, body))));
