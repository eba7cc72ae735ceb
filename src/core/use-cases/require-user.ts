import { profileNotFound, type UserProfile } from '../user';
import type { Deps } from './deps';

export const requireUser = async (deps: Pick<Deps, 'users'>, id: string, param?: 'toUserId'): Promise<UserProfile> => {
  const user = await deps.users.get(id);
  if (!user) throw profileNotFound(param);
  return user;
};
