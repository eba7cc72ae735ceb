import { UserExists } from '../../core/errors';
import type { UserStore } from '../../core/ports';
import type { UserProfile } from '../../core/user';
import { toUserProfile, type UserRow } from './postgres-rows';
import type { SqlExecutor } from './sql-executor';

export const makePostgresUserStore = (db: SqlExecutor): UserStore => ({
  async create(profile: UserProfile) {
    // ON CONFLICT DO NOTHING: of many concurrent creations exactly one gets a row back.
    const rows = await db.query(
      `INSERT INTO users (id, email, name, created_at) VALUES ($1, $2, $3, $4::timestamptz)
       ON CONFLICT (id) DO NOTHING RETURNING id`,
      [profile.id, profile.email, profile.name, profile.createdAt],
    );
    if (rows.length === 0) throw new UserExists();
    return { ...profile };
  },
  async get(id) {
    const [row] = await db.query<UserRow>('SELECT id, email, name, created_at FROM users WHERE id = $1', [id], { idempotent: true });
    return row ? toUserProfile(row) : null;
  },
});
