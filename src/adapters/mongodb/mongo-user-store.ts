import type { UserStore } from '../../core/ports';
import type { MongoCollections } from './mongo-collections';
import { fromUserDoc, toUserDoc } from './mongo-documents';
import { guarded } from './mongo-errors';

export const makeMongoUserStore = (c: MongoCollections): UserStore => ({
  // The user id is the _id, so of many concurrent creations exactly one inserts; the rest get UserExists.
  create: (profile) =>
    guarded('users', async () => {
      const doc = toUserDoc(profile);
      await c.users.insertOne(doc);
      return fromUserDoc(doc);
    }),
  get: (id) =>
    guarded('users', async () => {
      const doc = await c.users.findOne({ _id: id });
      return doc ? fromUserDoc(doc) : null;
    }),
});
