import type { Balance } from './money';

export interface UserProfile {
  /** The `sub` of the user's token. */
  id: string;
  email: string;
  name: string;
  createdAt: string;
}

export interface User extends UserProfile {
  balances: Balance[];
}

/** A user id is a token `sub`: 1–255 printable characters. */
export const isValidUserId = (id: unknown): id is string =>
  typeof id === 'string' && id.length >= 1 && id.length <= 255 && /^[\x21-\x7e]+$/.test(id);
