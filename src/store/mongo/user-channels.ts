// userChannels: each user's list of channels, one document per (user, organization, channel),
// written in the unit that adds or removes the membership in channelMembers. channelMembers is
// keyed (and sharded) by channel; this list answers the by-user questions with queries that name
// the user: the user's channels in one organization (a page of the sidebar) and in all of them
// (the channels viewerEvents follows). {userId, orgId, channelId} is unique and covers both; on
// the hashed userId each goes to one shard.
import { type CollectionSpec, type Session, type StoreCollection, within } from './database.ts';

export const USER_CHANNELS = 'userChannels';

export interface UserChannelDoc {
  userId: string;
  orgId: string;
  channelId: string;
  joinedAt: Date;
}

/** Which entry of a user's list. */
export type UserChannelKey = Omit<UserChannelDoc, 'joinedAt'>;

export type UserChannels = StoreCollection<UserChannelDoc>;

export const userChannelsCollection: CollectionSpec = {
  name: USER_CHANNELS,
  indexes: [{ key: { userId: 1, orgId: 1, channelId: 1 }, name: 'userId_1_orgId_1_channelId_1', unique: true }],
  shardKey: { userId: 'hashed' },
};

/** Lists the channel among the user's (a no-op when it is listed already). */
export async function add(list: UserChannels, entry: UserChannelKey, at: Date, session: Session): Promise<void> {
  await list.updateOne(entry, { $setOnInsert: { joinedAt: at } }, { upsert: true, ...within(session) });
}

/** Lists a channel created in the same unit among each of its first members' (none can be listed yet). */
export async function addFirst(
  list: UserChannels,
  orgId: string,
  channelId: string,
  userIds: readonly string[],
  at: Date,
  session: Session,
) {
  if (userIds.length === 0) return;
  await list.insertMany(userIds.map((userId) => ({ userId, orgId, channelId, joinedAt: at })), within(session));
}

/** Takes the channel off the user's list. */
export async function remove(list: UserChannels, entry: UserChannelKey, session: Session): Promise<void> {
  await list.deleteOne(entry, within(session));
}

/** The ids of the user's channels in one organization (covered by {userId, orgId, channelId}). */
export async function findChannelIdsInOrg(list: UserChannels, userId: string, orgId: string): Promise<string[]> {
  const docs = await list.find({ userId, orgId }, { projection: { _id: 0, channelId: 1 } }).toArray();
  return docs.map((d) => d.channelId);
}

/** The ids of all the user's channels (covered by {userId, orgId, channelId}). */
export async function findChannelIdsOfUser(list: UserChannels, userId: string): Promise<string[]> {
  const docs = await list.find({ userId }, { projection: { _id: 0, channelId: 1 } }).toArray();
  return docs.map((d) => d.channelId);
}

/** Says the lists were filled from channelMembers (no user has the id ''). */
const FILLED: UserChannelKey = { userId: '', orgId: '', channelId: '' };

/** True once the lists were filled from channelMembers (or the database started with them). */
export async function isFilled(list: UserChannels): Promise<boolean> {
  return (await list.findOne(FILLED)) !== null;
}

/** Marks the lists as filled. */
export async function markFilled(list: UserChannels): Promise<void> {
  await add(list, FILLED, new Date(0), undefined);
}
