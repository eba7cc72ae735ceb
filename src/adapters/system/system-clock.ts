import { randomBytes, randomUUID } from 'node:crypto';
import type { Clock, IdGenerator } from '../../core/ports';

export const systemClock: Clock = { now: () => new Date().toISOString(), nowMs: () => Date.now() };

/** UUID v7 (RFC 9562): 48-bit millisecond timestamp, then random bits. */
export const uuidv7 = (ms = Date.now()): string => {
  const b = randomBytes(16);
  b.writeUIntBE(ms, 0, 6);
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x70;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};

export const uuidV7Ids: IdGenerator = { transactionId: () => uuidv7(), claimToken: () => randomUUID() };
