// channelMembers: one document per (channel, user) with the member's read and delivery markers.
// {channelId, userId} is unique and decides who joins first; {userId, channelId} lists a user's
// channels; {channelId, lastReadSeq} and {channelId, lastDeliveredSeq} count how far a message has
// reached. Markers only move forward ($max), and the read marker never passes the delivery marker.
import type { ChannelMember } from '../../domain/types.ts';
import type { ChannelMemberKey, MarkerMove, Reach, ReachKey } from '../store.ts';
import { type IndexSpec, type Session, type StoreCollection, within } from './database.ts';

export const CHANNEL_MEMBERS = 'channelMembers';

/** Stored as the domain record (the driver adds its own _id). */
export type ChannelMemberDoc = ChannelMember;

export type ChannelMembers = StoreCollection<ChannelMemberDoc>;

export const channelMemberIndexes: readonly IndexSpec[] = [
  { key: { channelId: 1, userId: 1 }, name: 'channelId_1_userId_1', unique: true },
  { key: { userId: 1, channelId: 1 }, name: 'userId_1_channelId_1' },
  { key: { channelId: 1, lastReadSeq: 1 }, name: 'channelId_1_lastReadSeq_1' },
  { key: { channelId: 1, lastDeliveredSeq: 1 }, name: 'channelId_1_lastDeliveredSeq_1' },
];

/** The domain record of a stored membership. */
export function toChannelMember(doc: ChannelMemberDoc): ChannelMember {
  return {
    channelId: doc.channelId,
    userId: doc.userId,
    lastReadSeq: doc.lastReadSeq,
    lastDeliveredSeq: doc.lastDeliveredSeq,
    joinedAt: doc.joinedAt,
  };
}

/**
 * Stores the membership, markers at seq, unless it exists; the member when this call stored it.
 * An upsert rather than an insert: inside a transaction a duplicate-key error would abort the unit.
 */
export async function insertIfAbsent(
  members: ChannelMembers,
  channelId: string,
  userId: string,
  seq: number,
  at: Date,
  session: Session,
): Promise<ChannelMember | null> {
  const result = await members.updateOne(
    { channelId, userId },
    { $setOnInsert: { lastReadSeq: seq, lastDeliveredSeq: seq, joinedAt: at } },
    { upsert: true, ...within(session) },
  );
  return result.upsertedCount === 1 ? { channelId, userId, lastReadSeq: seq, lastDeliveredSeq: seq, joinedAt: at } : null;
}

/** Stores the first members of a channel created in the same unit (there are none to collide with). */
export async function insertFirstMembers(
  members: ChannelMembers,
  channelId: string,
  userIds: readonly string[],
  at: Date,
  session: Session,
): Promise<void> {
  if (userIds.length === 0) return;
  const docs = userIds.map((userId) => ({ channelId, userId, lastReadSeq: 0, lastDeliveredSeq: 0, joinedAt: at }));
  await members.insertMany(docs, within(session));
}

/** Removes the membership; true when this call removed it. */
export async function deleteMember(members: ChannelMembers, channelId: string, userId: string, session: Session) {
  return (await members.deleteOne({ channelId, userId }, within(session))).deletedCount === 1;
}

/** Memberships among these pairs: one query, one $or branch per channel. */
export async function findByKeys(members: ChannelMembers, keys: readonly ChannelMemberKey[]): Promise<ChannelMember[]> {
  if (keys.length === 0) return [];
  const usersByChannel = new Map<string, string[]>();
  for (const { channelId, userId } of keys) usersByChannel.set(channelId, [...(usersByChannel.get(channelId) ?? []), userId]);
  const branches = [...usersByChannel].map(([channelId, userIds]) => ({ channelId, userId: { $in: userIds } }));
  return (await members.find({ $or: branches }).toArray()).map(toChannelMember);
}

/** The channel's members after afterUserId, in user id order ({channelId, userId}). */
export async function findByChannel(members: ChannelMembers, channelId: string, afterUserId: string | null, limit: number) {
  const docs = await members.find({ channelId, userId: { $gt: afterUserId ?? '' } }, { sort: { userId: 1 }, limit }).toArray();
  return docs.map(toChannelMember);
}

/** Every channel id the user belongs to (covered by {userId, channelId}). */
export async function findChannelIdsOfUser(members: ChannelMembers, userId: string): Promise<string[]> {
  const docs = await members.find({ userId }, { projection: { _id: 0, channelId: 1 } }).toArray();
  return docs.map((d) => d.channelId);
}

/**
 * Moves the delivery marker (and the read marker too when read) forward to seq, atomically on one
 * document; the document before the update gives both sides of the move. null when not a member.
 */
export async function moveMarkers(
  members: ChannelMembers,
  channelId: string,
  userId: string,
  seq: number,
  read: boolean,
): Promise<MarkerMove | null> {
  const update = read ? { lastDeliveredSeq: seq, lastReadSeq: seq } : { lastDeliveredSeq: seq };
  const doc = await members.findOneAndUpdate({ channelId, userId }, { $max: update }, { returnDocument: 'before' });
  if (!doc) return null;
  const before = toChannelMember(doc);
  const after = {
    ...before,
    lastDeliveredSeq: Math.max(before.lastDeliveredSeq, seq),
    lastReadSeq: read ? Math.max(before.lastReadSeq, seq) : before.lastReadSeq,
  };
  return { before, after };
}

/**
 * Per key, the other members whose delivery / read marker has reached the seq: one aggregation.
 * The $match takes, per key, the members at or past the seq through {channelId, lastDeliveredSeq}
 * and {channelId, lastReadSeq}; the $group then counts each key over that small set.
 */
export async function countReach(members: ChannelMembers, keys: readonly ReachKey[]): Promise<Reach[]> {
  if (keys.length === 0) return [];
  const branches = keys.flatMap(({ channelId, seq }) => [
    { channelId, lastDeliveredSeq: { $gte: seq } },
    { channelId, lastReadSeq: { $gte: seq } },
  ]);
  const reached = (i: number, marker: string) => {
    const { channelId, seq, authorId } = keys[i]!;
    const test = { $and: [{ $eq: ['$channelId', channelId] }, { $ne: ['$userId', authorId] }, { $gte: [`$${marker}`, seq] }] };
    return { $sum: { $cond: [test, 1, 0] } };
  };
  const group: Record<string, unknown> = { _id: null };
  keys.forEach((_, i) => {
    group[`d${i}`] = reached(i, 'lastDeliveredSeq');
    group[`r${i}`] = reached(i, 'lastReadSeq');
  });
  const [counts] = await members.aggregate<Record<string, number>>([{ $match: { $or: branches } }, { $group: group }]).toArray();
  return keys.map((_, i) => ({ delivered: counts?.[`d${i}`] ?? 0, read: counts?.[`r${i}`] ?? 0 }));
}

/** Moves the author's markers to their own new message, so one's own messages are never unread. */
export async function coverOwnMessage(members: ChannelMembers, channelId: string, userId: string, seq: number, session: Session) {
  await members.updateOne({ channelId, userId }, { $max: { lastReadSeq: seq, lastDeliveredSeq: seq } }, within(session));
}
