// The first definitions of code later made faster, kept as the reference their
// replacements must match (tests) and be measured against (bench/per-write-cpu.ts).
import { createHash, randomBytes } from 'node:crypto';
import { uuidv7From } from '../../src/adapters/system/system-clock';

/** canonicalJson as the fingerprints stored by earlier versions were made. */
export const canonicalJsonFirst = (value: unknown): string => {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJsonFirst).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJsonFirst(v)}`).join(',')}}`;
};

export const fingerprintFirst = (operation: string, request: unknown): string =>
  createHash('sha256').update(canonicalJsonFirst({ operation, request })).digest('base64url');

/** The first uuidv7: one randomBytes(16) call per id. */
export const uuidv7First = (ms = Date.now()): string => uuidv7From(randomBytes(16), ms);
