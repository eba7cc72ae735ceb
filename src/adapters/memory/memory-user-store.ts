import { UserExists } from '../../core/errors';
import type { UserStore } from '../../core/ports';
import type { UserProfile } from '../../core/user';
import type { MemoryState } from './memory-state';

const copy = <T>(v: T): T => structuredClone(v);

export const makeMemoryUserStore = (state: MemoryState): UserStore => ({
  async create(profile: UserProfile) {
    if (state.users.has(profile.id)) throw new UserExists();
    state.users.set(profile.id, copy(profile));
    return copy(profile);
  },
  async get(id) {
    const u = state.users.get(id);
    return u ? copy(u) : null;
  },
});
