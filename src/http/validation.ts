import type * as z from 'zod/mini';
import { InvalidRequest } from '../core/errors';

interface Visit {
  value: unknown;
  key: string;
  parent: Visit | undefined;
}

/**
 * The path of the first own `__proto__` key, which any plain-object copy would drop
 * silently. Iterative and linear: a 16 KiB body can nest thousands of levels deep.
 */
const protoKeyPath = (input: unknown): string[] | undefined => {
  const stack: Visit[] = [{ value: input, key: '', parent: undefined }];
  for (let at = stack.pop(); at; at = stack.pop()) {
    const v = at.value;
    if (v === null || typeof v !== 'object') continue;
    if (Object.prototype.hasOwnProperty.call(v, '__proto__')) {
      const path = ['__proto__'];
      for (let p: Visit | undefined = at; p?.parent; p = p.parent) path.unshift(p.key);
      return path;
    }
    for (const [key, value] of Object.entries(v as Record<string, unknown>)) {
      if (value !== null && typeof value === 'object') stack.push({ value, key, parent: at });
    }
  }
  return undefined;
};

/**
 * A NUL or an unpaired UTF-16 surrogate: no store keeps them alike (PostgreSQL refuses
 * both, others store them), so every store gets the same answer here, at the edge.
 */
const HOSTILE = /\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The path of the first string (a value, or a key: then its object's path) that no store can keep. */
const hostileStringPath = (value: unknown, path: string[] = []): string[] | undefined => {
  if (typeof value === 'string') return HOSTILE.test(value) ? path : undefined;
  if (value === null || typeof value !== 'object') return undefined;
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (HOSTILE.test(key)) return path;
    const found = hostileStringPath(v, [...path, key]);
    if (found) return found;
  }
  return undefined;
};

/** Parses with a schema; the first problem becomes a 400 naming the field as the client sent it. */
export const parseWith = <S extends z.ZodMiniType>(schema: S, input: unknown): z.output<S> => {
  const proto = protoKeyPath(input);
  if (proto) throw new InvalidRequest(`${proto.join('.')}: "__proto__" is not an allowed key`, proto.join('.'));
  // The schema's own method: routes without a body or query schema bundle no zod at all.
  const result = schema.safeParse(input);
  if (result.success) {
    // After the schema, so the path names only fields the API knows.
    const hostile = hostileStringPath(result.data);
    if (!hostile) return result.data;
    const param = hostile.join('.') || undefined;
    throw new InvalidRequest(`${param ?? 'body'}: NUL characters and unpaired surrogates are not allowed`, param);
  }
  const issue = result.error.issues[0];
  if (!issue) throw new InvalidRequest('Invalid request');
  if (issue.code === 'unrecognized_keys') {
    const field = [...issue.path, issue.keys[0]].join('.');
    throw new InvalidRequest(`Unknown field: ${field}`, field);
  }
  const param = issue.path.map(String).join('.') || undefined;
  throw new InvalidRequest(param ? `${param}: ${issue.message}` : issue.message, param);
};
