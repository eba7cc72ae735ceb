import { uuidv7 } from '../../src/adapters/system/system-clock';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('uuidv7', () => {
  it('is a version 7, variant 10 UUID whose first 48 bits are the time in ms', () => {
    const ms = Date.UTC(2026, 11, 3, 12, 0, 0, 123);
    const id = uuidv7(ms);
    expect(id).toMatch(UUID_V7);
    expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(ms);
  });

  it('never repeats its random bits, across many refills of its block of random bytes', () => {
    // Same millisecond for all: only the 74 random bits tell them apart.
    const ids = Array.from({ length: 20_000 }, () => uuidv7(1_700_000_000_000));
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(UUID_V7);
    // Ids from consecutive slices of the block share no random bytes (a stuck offset would).
    const tails = new Set(ids.map((id) => id.slice(24)));
    expect(tails.size).toBe(ids.length);
  });
});
