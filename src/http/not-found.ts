import { NotFound } from '../core/errors';
import { httpHandler } from './http-handler';

/** The catch-all ($default) route: unknown paths and methods, in the error shape. */
export const notFoundHandler = httpHandler({ auth: 'none' }, async () => {
  throw new NotFound('No such route');
});
