import { decodeCursor, encodeCursor } from '../src/http/cursor';
import { httpHandler, ok } from '../src/http/http-handler';
import { publicPage } from '../src/http/resources';
import { listQuery } from '../src/http/schemas';

export const handler = httpHandler({ auth: 'user', query: listQuery }, async ({ app, caller, path, query }) => {
  const userId = path.id ?? '';
  const binding = { userId, type: query.type, status: query.status };
  const secret = app.config.cursorSecret;
  const page = await app.useCases.listTransactions(caller, {
    userId,
    limit: query.limit ?? 20,
    ...(query.cursor !== undefined && { before: decodeCursor(secret, query.cursor, binding) }),
    ...(query.type && { type: query.type }),
    ...(query.status && { status: query.status }),
  });
  return ok(publicPage(page.data, page.next ? encodeCursor(secret, page.next, binding) : null));
});
