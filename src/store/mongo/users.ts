// users: one document per user, _id = the user's id (the token's subject). Only _id is queried
// (the _id index); sharded on the hashed _id, so each query targets the shards of its ids (and the
// start-up fill of userNames pages through every user, in the unsharded layout only).
import type { User } from '../../domain/types.ts';
import type { UserProfile } from '../store.ts';
import type { CollectionSpec, Stored, StoreCollection } from './database.ts';

export const USERS = 'users';

export type UserDoc = Stored<User>;

export type Users = StoreCollection<UserDoc>;

/** Only the _id index, which MongoDB creates with the collection. */
export const usersCollection: CollectionSpec = { name: USERS, indexes: [], shardKey: { _id: 'hashed' } };

/** The domain record of a stored user. */
export function toUser(doc: UserDoc): User {
  return {
    id: doc._id,
    name: doc.name,
    displayName: doc.displayName ?? null,
    email: doc.email ?? null,
    lastActiveAt: doc.lastActiveAt ?? null,
  };
}

/**
 * Creates each user, or updates the profile and keeps lastActiveAt; one atomic upsert per user,
 * sent together. Resolves with each one's name until now (null for a new user), for userNames.
 */
export async function upsertProfiles(users: Users, profiles: readonly UserProfile[]): Promise<(string | null)[]> {
  return Promise.all(
    profiles.map(async (profile) => {
      const before = await users.findOneAndUpdate(
        { _id: profile.id },
        {
          $set: { name: profile.name, displayName: profile.displayName, email: profile.email },
          $setOnInsert: { lastActiveAt: null },
        },
        { upsert: true, returnDocument: 'before' },
      );
      return before?.name ?? null;
    }),
  );
}

/** Users after afterId in id order (the _id index), for start-up fills. */
export async function findPage(users: Users, afterId: string, limit: number): Promise<User[]> {
  return (await users.find({ _id: { $gt: afterId } }, { sort: { _id: 1 }, limit }).toArray()).map(toUser);
}

/** Users with these ids (unknown ids left out). */
export async function findByIds(users: Users, ids: readonly string[]): Promise<User[]> {
  if (ids.length === 0) return [];
  return (await users.find({ _id: { $in: [...ids] } }).toArray()).map(toUser);
}

/** Moves lastActiveAt forward only ($max: a late, older report never wins). */
export async function moveLastActiveAt(users: Users, userId: string, at: Date): Promise<void> {
  await users.updateOne({ _id: userId }, { $max: { lastActiveAt: at } });
}
