import { httpHandler, ok } from '../src/http/http-handler';
import { publicHold } from '../src/http/resources';

export const handler = httpHandler({ auth: 'user' }, async ({ app, caller, path }) =>
  ok(publicHold(await app.useCases.getHold(caller, path.id ?? ''))));
