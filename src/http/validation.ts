import * as z from 'zod/mini';
import { InvalidRequest } from '../core/errors';

/** Parses with a schema; the first problem becomes a 400 naming the field as the client sent it. */
export const parseWith = <S extends z.ZodMiniType>(schema: S, input: unknown): z.output<S> => {
  const result = z.safeParse(schema, input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  if (!issue) throw new InvalidRequest('Invalid request');
  if (issue.code === 'unrecognized_keys') {
    const field = [...issue.path, issue.keys[0]].join('.');
    throw new InvalidRequest(`Unknown field: ${field}`, field);
  }
  const param = issue.path.map(String).join('.') || undefined;
  throw new InvalidRequest(param ? `${param}: ${issue.message}` : issue.message, param);
};
