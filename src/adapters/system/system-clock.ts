import { randomFillSync, randomUUID } from 'node:crypto';
import type { Clock, IdGenerator } from '../../core/ports';

export const systemClock: Clock = { now: () => new Date().toISOString(), nowMs: () => Date.now() };

/**
 * Random bytes for ids, drawn from the CSPRNG a block at a time (as Node's own
 * randomUUID does): one randomBytes call per id costs ≈ 5 µs on some machines, a
 * slice of the block ≈ 0.1 µs. Every byte is handed out once.
 */
const ID_BYTES = 16;
const pool = Buffer.alloc(ID_BYTES * 256);
let poolOffset = pool.length;
const freshBytes = (): Buffer => {
  if (poolOffset === pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  // A view, used at once by the caller (uuidv7 writes its fields into it and prints it).
  const bytes = pool.subarray(poolOffset, poolOffset + ID_BYTES);
  poolOffset += ID_BYTES;
  return bytes;
};

/** A UUID v7 (RFC 9562) written over 16 random bytes: 48-bit millisecond timestamp, version, variant. */
export const uuidv7From = (b: Buffer, ms: number): string => {
  b.writeUIntBE(ms, 0, 6);
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x70;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};

/** UUID v7 (RFC 9562): 48-bit millisecond timestamp, then random bits. */
export const uuidv7 = (ms = Date.now()): string => uuidv7From(freshBytes(), ms);

export const uuidV7Ids: IdGenerator = { transactionId: () => uuidv7(), claimToken: () => randomUUID() };
