import { Forbidden } from '../errors';
import type { Caller } from './deps';

export const assertOwner = (caller: Caller, userId: string): void => {
  if (caller.id !== userId) throw new Forbidden('You can only move your own money');
};

export const assertOwnerOrAdmin = (caller: Caller, userId: string): void => {
  if (!caller.isAdmin && caller.id !== userId) throw new Forbidden('You can only read your own account');
};
