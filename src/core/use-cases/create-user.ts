import { InvalidRequest } from '../errors';
import type { User } from '../user';
import type { Caller, Deps } from './deps';

export interface CreateUserInput {
  email: string;
  name: string;
}

export const makeCreateUser = ({ users, clock }: Pick<Deps, 'users' | 'clock'>) =>
  async (caller: Caller, input: CreateUserInput): Promise<User> => {
    if (input.name.trim().length === 0) throw new InvalidRequest('name must not be blank', 'name');
    const profile = await users.create({ id: caller.id, email: input.email, name: input.name, createdAt: clock.now() });
    return { ...profile, balances: [] };
  };
