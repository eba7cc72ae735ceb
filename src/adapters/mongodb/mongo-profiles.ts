import type { ClientSession } from 'mongodb';
import { profileNotFound } from '../../core/user';
import type { MongoCollections } from './mongo-collections';

/** Profiles, read inside the movement's transaction: the payer first, then the payee (`param: "toUserId"`). */
export const requireProfiles = async (
  c: MongoCollections,
  parties: { userId: string; toUserId?: string | undefined },
  session: ClientSession,
): Promise<void> => {
  if (!(await c.users.findOne({ _id: parties.userId }, { session, projection: { _id: 1 } }))) throw profileNotFound();
  if (parties.toUserId !== undefined && !(await c.users.findOne({ _id: parties.toUserId }, { session, projection: { _id: 1 } }))) {
    throw profileNotFound('toUserId');
  }
};
