// Before a body is parsed: present (400; or, where a route allows none, taken as `{}`),
// at most 16 KiB (413), JSON by media type (415); number literals judged by their
// text. After parsing: a JSON object (400).
import { InvalidRequest, PayloadTooLarge, UnsupportedMediaType } from '../../core/errors';
import { exactNumbers } from '../json-numbers';
import { header, type Event, type Middleware } from './request-context';

export const MAX_BODY_BYTES = 16 * 1024;
const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;.*)?$/i;

const rawBody = (event: Event): string | undefined =>
  event.body === undefined || event.body === null ? undefined
    : event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;

export const bodyGuard = ({ optional = false } = {}): Middleware => ({
  before: async ({ event }) => {
    const body = rawBody(event);
    if ((body === undefined || body.length === 0) && optional) {
      // Nothing sent is the empty object, whatever content type came with it.
      event.headers = { ...event.headers, 'content-type': 'application/json' };
      event.body = '{}';
      event.isBase64Encoded = false;
      return;
    }
    if (body === undefined || body.length === 0) throw new InvalidRequest('A JSON object body is required');
    if (Buffer.byteLength(body, 'utf8') > MAX_BODY_BYTES) throw new PayloadTooLarge(MAX_BODY_BYTES);
    if (!JSON_TYPE.test(header(event, 'content-type') ?? '')) throw new UnsupportedMediaType();
    // Media types are case-insensitive; the JSON parser's own check is not.
    event.headers = { ...event.headers, 'content-type': 'application/json' };
    event.body = exactNumbers(body);
    event.isBase64Encoded = false;
  },
});

/** Registered after the JSON parser: every body this API takes is an object. */
export const jsonObjectBody = (): Middleware => ({
  before: async ({ event }) => {
    const body: unknown = event.body;
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new InvalidRequest('The body must be a JSON object');
  },
});
