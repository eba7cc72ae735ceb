import { httpHandler, ok } from '../src/http/http-handler';
import { openApiDocument } from '../src/http/openapi';

export const handler = httpHandler({ auth: 'none' }, async () => ok(openApiDocument()));
