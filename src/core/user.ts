import { NotFound } from './errors';
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

/**
 * The 404 for a missing profile: the caller's own (no param) or the recipient's
 * (`param: "toUserId"`). Use cases and ledgers (which check profiles inside a
 * movement's atomic step) raise the same error.
 */
export const profileNotFound = (param?: 'toUserId'): NotFound =>
  new NotFound(param ? `No user profile for ${param}` : 'User not found', param);
