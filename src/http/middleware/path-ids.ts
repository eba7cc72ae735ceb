// A path id no resource can have (ids are 1–255 printable ASCII characters: a token
// `sub` or a UUID) is `404 not_found`, as the contract says for malformed ids, and
// never reaches a store: NUL, unpaired surrogates, what is left of invalid or
// overlong UTF-8 percent-encodings, and overlong ids.
import { NotFound } from '../../core/errors';
import { isValidUserId } from '../../core/user';
import type { Middleware } from './request-context';

export const pathIds = (): Middleware => ({
  before: async ({ event }) => {
    const id = event.pathParameters?.id;
    if (id !== undefined && !isValidUserId(id)) throw new NotFound();
  },
});
