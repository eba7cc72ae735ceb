import { createUserBody } from '../src/http/schemas';
import { created, httpHandler } from '../src/http/http-handler';
import { userResource } from '../src/http/resources';

export const handler = httpHandler({ auth: 'user', body: createUserBody }, async ({ app, caller, body }) =>
  created(userResource(await app.useCases.createUser(caller, body))));
