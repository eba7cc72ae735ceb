import { NotFound } from '../src/core/errors';
import { httpHandler } from '../src/http/http-handler';

/** The catch-all ($default) route: unknown paths and methods. */
export const handler = httpHandler({ auth: 'none' }, async () => {
  throw new NotFound('No such route');
});
