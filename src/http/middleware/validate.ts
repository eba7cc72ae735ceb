// Query, Idempotency-Key and body, each checked against the route's schema; the
// parsed values go on the request context for the handler.
import type * as z from 'zod/mini';
import { InvalidRequest } from '../../core/errors';
import { parseWith } from '../validation';
import { header, type Middleware } from './request-context';

const IDEMPOTENCY_KEY = /^[\x20-\x7e]{1,255}$/;

export interface InputSpec {
  body?: z.ZodMiniType | undefined;
  query?: z.ZodMiniType | undefined;
  /** Accepts an Idempotency-Key header. */
  idempotent?: boolean | undefined;
}

export const validate = (spec: InputSpec): Middleware => ({
  before: async ({ event, context }) => {
    const query: unknown = spec.query ? parseWith(spec.query, event.queryStringParameters ?? {}) : undefined;
    const key = header(event, 'idempotency-key');
    if (spec.idempotent && key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
      throw new InvalidRequest('Idempotency-Key must be 1–255 printable ASCII characters', 'Idempotency-Key');
    }
    const body: unknown = spec.body ? parseWith(spec.body, event.body) : undefined;
    context.input = { body, query, idempotencyKey: spec.idempotent ? key : undefined };
  },
});
