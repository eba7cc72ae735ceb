import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { InvalidRequest } from '../../src/core/errors';
import { decodeCursor, encodeCursor, type CursorBinding } from '../../src/http/cursor';

const SECRET = 'cursor-secret-for-unit-tests-0001';
const position = { createdAt: '2024-05-06T07:08:09.123Z', id: '01890a5d-ac96-774b-bcce-b302099a8057' };
const binding: CursorBinding = { userId: 'auth0|ada', type: 'deposit', status: 'completed' };

const expectBadCursor = (fn: () => unknown): void => {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(InvalidRequest);
  expect(thrown).toMatchObject({ code: 'invalid_request', param: 'cursor' });
};

/** A cursor signed the way the product signs, over any payload we like. */
const signedOver = (payloadJson: string): string => {
  const payload = Buffer.from(payloadJson).toString('base64url');
  const mac = createHmac('sha256', SECRET).update(payload).digest().subarray(0, 16).toString('base64url');
  return `${payload}.${mac}`;
};

describe('pagination cursors', () => {
  it('round-trips the position for the same listing', () => {
    const c = encodeCursor(SECRET, position, binding);
    expect(decodeCursor(SECRET, c, binding)).toEqual(position);
    const plain = encodeCursor(SECRET, position, { userId: 'u' });
    expect(decodeCursor(SECRET, plain, { userId: 'u', type: undefined, status: undefined })).toEqual(position);
  });

  it('is opaque: neither the user id nor the raw timestamp is readable as-is', () => {
    const c = encodeCursor(SECRET, position, binding);
    expect(c).not.toContain('auth0|ada');
    expect(c).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  });

  it('refuses any changed character of the payload', () => {
    const c = encodeCursor(SECRET, position, binding);
    const [payload = '', mac = ''] = c.split('.');
    for (let i = 0; i < payload.length; i++) {
      const swapped = payload[i] === 'A' ? 'B' : 'A';
      expectBadCursor(() => decodeCursor(SECRET, `${payload.slice(0, i)}${swapped}${payload.slice(i + 1)}.${mac}`, binding));
    }
  });

  it('refuses a flipped byte of the signature', () => {
    const c = encodeCursor(SECRET, position, binding);
    const [payload = '', mac = ''] = c.split('.');
    const bytes = Buffer.from(mac, 'base64url');
    for (let i = 0; i < bytes.length; i++) {
      const flipped = Buffer.from(bytes);
      flipped[i] = (flipped[i] ?? 0) ^ 0x01;
      expectBadCursor(() => decodeCursor(SECRET, `${payload}.${flipped.toString('base64url')}`, binding));
    }
  });

  it('refuses any changed character of the signature string, the last one included', () => {
    // 16 MAC bytes are 22 base64url characters; the last one carries 4 unused bits, so
    // a byte-level comparison alone would accept some edits of it.
    const c = encodeCursor(SECRET, position, binding);
    const [payload = '', mac = ''] = c.split('.');
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    for (let i = 0; i < mac.length; i++) {
      for (const ch of alphabet) {
        if (ch === mac[i]) continue;
        expectBadCursor(() => decodeCursor(SECRET, `${payload}.${mac.slice(0, i)}${ch}${mac.slice(i + 1)}`, binding));
      }
    }
  });

  it('refuses characters appended to or inserted into the cursor', () => {
    const c = encodeCursor(SECRET, position, binding);
    const [payload = '', mac = ''] = c.split('.');
    for (const tampered of [`${c}=`, `${c}!`, `${c} `, `${c}A`, `${payload}.!${mac}`, `${payload}.${mac.slice(0, 5)}*${mac.slice(5)}`]) {
      expectBadCursor(() => decodeCursor(SECRET, tampered, binding));
    }
  });

  it('refuses a cursor issued for another user, type or status', () => {
    const c = encodeCursor(SECRET, position, binding);
    expectBadCursor(() => decodeCursor(SECRET, c, { ...binding, userId: 'auth0|eve' }));
    expectBadCursor(() => decodeCursor(SECRET, c, { ...binding, type: 'withdrawal' }));
    expectBadCursor(() => decodeCursor(SECRET, c, { ...binding, type: undefined }));
    expectBadCursor(() => decodeCursor(SECRET, c, { ...binding, status: 'pending' }));
    expectBadCursor(() => decodeCursor(SECRET, c, { ...binding, status: undefined }));
  });

  it('keeps the holds listing and the transactions listing apart, for the same user and status', () => {
    const plain = { userId: 'auth0|ada', status: undefined };
    const holds = { ...plain, listing: 'holds' } as const;
    const fromHolds = encodeCursor(SECRET, position, holds);
    expect(decodeCursor(SECRET, fromHolds, holds)).toEqual(position);
    expectBadCursor(() => decodeCursor(SECRET, fromHolds, plain));
    expectBadCursor(() => decodeCursor(SECRET, encodeCursor(SECRET, position, plain), holds));
    // Transactions cursors keep the form they always had (the listing is the default).
    expect(encodeCursor(SECRET, position, { ...plain, listing: 'transactions' })).toBe(encodeCursor(SECRET, position, plain));
  });

  it('refuses a cursor signed with another secret', () => {
    const c = encodeCursor('another-secret-entirely-000000000', position, binding);
    expectBadCursor(() => decodeCursor(SECRET, c, binding));
  });

  it.each(['', '.', '..', 'abc', 'abc.', '.abc', 'a.b.c', '%%%.%%%', 'eyJhbGciOiJIUzI1NiJ9', '\u0000', 'x'.repeat(1024)])(
    'refuses garbage %j',
    (garbage) => expectBadCursor(() => decodeCursor(SECRET, garbage, binding)),
  );

  it('refuses correctly signed payloads of the wrong shape', () => {
    const b = [binding.userId, binding.type, binding.status];
    for (const json of [
      'not json',
      '{}',
      '[]',
      JSON.stringify([position.createdAt, position.id, ...b, 'extra']),
      JSON.stringify(['2024-05-06', position.id, ...b]),
      JSON.stringify([position.createdAt, 'not-a-uuid', ...b]),
      JSON.stringify([position.createdAt, "' OR 1=1 --", ...b]),
      JSON.stringify([12345, position.id, ...b]),
    ]) {
      expectBadCursor(() => decodeCursor(SECRET, signedOver(json), binding));
    }
    // The same helper does produce an accepted cursor for a well-formed payload.
    expect(decodeCursor(SECRET, signedOver(JSON.stringify([position.createdAt, position.id, ...b])), binding)).toEqual(position);
  });

  it('never throws anything but InvalidRequest(cursor) for random input', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        try {
          decodeCursor(SECRET, s, binding);
          return false; // a random string is never a valid signed cursor
        } catch (e) {
          return e instanceof InvalidRequest && e.param === 'cursor';
        }
      }),
      { numRuns: 300 },
    );
  });
});
