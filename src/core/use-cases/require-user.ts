import { NotFound } from '../errors';
import type { UserProfile } from '../user';
import type { Deps } from './deps';

export const requireUser = async (deps: Pick<Deps, 'users'>, id: string, param?: string): Promise<UserProfile> => {
  const user = await deps.users.get(id);
  if (!user) throw new NotFound(param ? `No user profile for ${param}` : 'User not found', param);
  return user;
};
