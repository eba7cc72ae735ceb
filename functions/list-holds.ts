import { decodeCursor, encodeCursor } from '../src/http/cursor';
import { httpHandler, ok } from '../src/http/http-handler';
import { publicHoldPage } from '../src/http/resources';
import { listHoldsQuery } from '../src/http/schemas';

export const handler = httpHandler({ auth: 'user', query: listHoldsQuery }, async ({ app, caller, path, query }) => {
  const userId = path.id ?? '';
  const binding = { userId, status: query.status, listing: 'holds' } as const;
  const secret = app.config.cursorSecret;
  const page = await app.useCases.listHolds(caller, {
    userId,
    limit: query.limit ?? 20,
    ...(query.cursor !== undefined && { before: decodeCursor(secret, query.cursor, binding) }),
    ...(query.status && { status: query.status }),
  });
  return ok(publicHoldPage(page.data, page.next ? encodeCursor(secret, page.next, binding) : null));
});
