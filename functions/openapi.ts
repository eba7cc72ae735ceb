// GET /openapi.json: the API document (src/http/openapi.ts), no token needed.
export { openApiHandler as handler } from '../src/http/openapi';
