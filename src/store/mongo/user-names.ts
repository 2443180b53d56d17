// userNames: the users under each name as @name mentions match it (nameKey() of the name), one
// document per (name, user), kept in step as profiles are written (follow). users is keyed (and
// sharded) by id; this list answers "the users named so" with a query that names its key:
// {nameKey, userId} is unique and serves it, and sharded on the hashed nameKey the query goes only
// to the shards of those names. A channel's members by name are those users, then their memberships
// ({channelId, userId}, one shard), then their records (users by _id, to the shards of those ids).
import { nameKey } from '../../domain/rules.ts';
import type { User } from '../../domain/types.ts';
import * as channelMembers from './channel-members.ts';
import type { CollectionSpec, StoreCollection } from './database.ts';
import * as users from './users.ts';

export const USER_NAMES = 'userNames';

export interface UserNameDoc {
  nameKey: string;
  userId: string;
}

export type UserNames = StoreCollection<UserNameDoc>;

export const userNamesCollection: CollectionSpec = {
  name: USER_NAMES,
  indexes: [{ key: { nameKey: 1, userId: 1 }, name: 'nameKey_1_userId_1', unique: true }],
  shardKey: { nameKey: 'hashed' },
};

/** Lists the user under the name's key (a no-op when listed already). */
async function add(list: UserNames, key: string, userId: string): Promise<void> {
  await list.updateOne({ nameKey: key, userId }, { $set: { nameKey: key, userId } }, { upsert: true });
}

/**
 * Keeps the list in step with a user's name (before: the name stored until now, null for a new
 * user): listed under the name, and taken off the one they no longer have. Listing again what is
 * listed is a no-op, and mends a list that missed the user.
 */
export async function follow(list: UserNames, userId: string, before: string | null, after: string): Promise<void> {
  const key = nameKey(after);
  await add(list, key, userId);
  if (before !== null && nameKey(before) !== key) await list.deleteOne({ nameKey: nameKey(before), userId });
}

/**
 * Members of the channel whose name's key is one of these. A user listed under a name they no
 * longer have (a process stopped between the two writes of a rename) is left out by their record.
 */
export async function findChannelMembersByNameKeys(
  c: { userNames: UserNames; channelMembers: channelMembers.ChannelMembers; users: users.Users },
  channelId: string,
  keys: readonly string[],
): Promise<User[]> {
  if (keys.length === 0) return [];
  const listed = await c.userNames.find({ nameKey: { $in: [...keys] } }, { projection: { _id: 0, userId: 1 } }).toArray();
  if (listed.length === 0) return [];
  const memberships = await channelMembers.findByKeys(c.channelMembers, [...new Set(listed.map((l) => l.userId))].map((userId) => ({ channelId, userId })));
  if (memberships.length === 0) return [];
  const wanted = new Set(keys);
  return (await users.findByIds(c.users, memberships.map((m) => m.userId))).filter((user) => wanted.has(nameKey(user.name)));
}

/** Users listed per page of the start-up fill. */
const FILL_PAGE = 500;

/** Says the list was filled from users (no user has the id ''). */
const FILLED = { nameKey: '', userId: '' };

/** True once the list was filled from users (or the database started with it). */
export async function isFilled(list: UserNames): Promise<boolean> {
  return (await list.findOne(FILLED)) !== null;
}

/** Marks the list as filled. */
export async function markFilled(list: UserNames): Promise<void> {
  await add(list, FILLED.nameKey, FILLED.userId);
}

/** Lists every user stored before the list existed, a page of users at a time, unless done before. */
export async function fillOnce(list: UserNames, stored: users.Users): Promise<void> {
  if (await isFilled(list)) return;
  for (let after = ''; ; ) {
    const page = await users.findPage(stored, after, FILL_PAGE);
    for (const user of page) await add(list, nameKey(user.name), user.id);
    if (page.length < FILL_PAGE) break;
    after = page.at(-1)!.id;
  }
  await markFilled(list);
}
