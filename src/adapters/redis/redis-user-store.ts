import type { Redis } from 'ioredis';
import { UserExists } from '../../core/errors';
import type { UserStore } from '../../core/ports';
import type { UserProfile } from '../../core/user';
import { redisCall } from './redis-errors';
import type { RedisKeys } from './redis-keys';
import { runScript } from './redis-scripts';

export const makeRedisUserStore = (client: Redis, keys: RedisKeys): UserStore => ({
  async create(profile: UserProfile) {
    const result = await redisCall(runScript(client, 'createUser', [keys.user(profile.id)], [JSON.stringify(profile)]));
    if (result === 'exists') throw new UserExists();
    return { ...profile };
  },
  async get(id) {
    const raw = await redisCall(client.get(keys.user(id)));
    return raw === null ? null : (JSON.parse(raw) as UserProfile);
  },
});
