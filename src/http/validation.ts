import * as z from 'zod/mini';
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

/** Parses with a schema; the first problem becomes a 400 naming the field as the client sent it. */
export const parseWith = <S extends z.ZodMiniType>(schema: S, input: unknown): z.output<S> => {
  const proto = protoKeyPath(input);
  if (proto) throw new InvalidRequest(`${proto.join('.')}: "__proto__" is not an allowed key`, proto.join('.'));
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
