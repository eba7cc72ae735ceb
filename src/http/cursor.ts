// Opaque, tamper-evident keyset cursors: the position plus what it was issued for,
// signed with HMAC-SHA256. A changed byte or a cursor for another listing is a 400.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { InvalidRequest } from '../core/errors';
import { isTransactionId, type HistoryPosition } from '../core/transaction';

export interface CursorBinding {
  userId: string;
  type?: string | undefined;
  status?: string | undefined;
  /** Which listing issued it: a transactions cursor (the default) never pages through holds, nor the reverse. */
  listing?: 'transactions' | 'holds';
}

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** The listing is signed along, not written: transactions cursors keep the form they always had. */
const sign = (secret: string, payload: string, listing: CursorBinding['listing']): Buffer =>
  createHmac('sha256', secret).update(listing === 'holds' ? `holds.${payload}` : payload).digest().subarray(0, 16);

export const encodeCursor = (secret: string, position: HistoryPosition, binding: CursorBinding): string => {
  const payload = Buffer.from(JSON.stringify([position.createdAt, position.id, binding.userId, binding.type ?? '', binding.status ?? ''])).toString('base64url');
  return `${payload}.${sign(secret, payload, binding.listing).toString('base64url')}`;
};

export const decodeCursor = (secret: string, cursor: string, binding: CursorBinding): HistoryPosition => {
  const invalid = new InvalidRequest('cursor is invalid or was issued for another listing', 'cursor');
  const [payload, mac, extra] = cursor.split('.');
  if (!payload || !mac || extra !== undefined) throw invalid;
  // Compare the text, not decoded bytes: base64url decoding ignores stray characters
  // and the spare bits of the last one, so different texts can decode alike.
  const expected = Buffer.from(sign(secret, payload, binding.listing).toString('base64url'));
  const given = Buffer.from(mac);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw invalid;
  }
  if (!Array.isArray(parsed) || parsed.length !== 5) throw invalid;
  const [createdAt, id, userId, type, status] = parsed as unknown[];
  if (typeof createdAt !== 'string' || !ISO_MS.test(createdAt) || !isTransactionId(id)) throw invalid;
  if (userId !== binding.userId || type !== (binding.type ?? '') || status !== (binding.status ?? '')) throw invalid;
  return { createdAt, id };
};
