// channelMembers: one document per (channel, user) with the member's read and delivery markers.
// {channelId, userId} is unique, decides who joins first and serves every query here (all name
// channelId); sharded on the hashed channelId. A user's channels are read from the user's own list
// (user-channels.ts), not from here. How far a message has reached is read from markerCounts
// (marker-counts.ts), which every write here that moves, adds or removes markers reports to
// through the markers before and after. Markers only move forward ($max), and the read marker never
// passes the delivery marker.
import type { ChannelMember } from '../../domain/types.ts';
import type { Markers } from '../marker-counts.ts';
import { type ChannelMemberKey, type MarkerMove, StoreError } from '../store.ts';
import { type CollectionSpec, type Session, type StoreCollection, within } from './database.ts';

export const CHANNEL_MEMBERS = 'channelMembers';

/** Stored as the domain record (the driver adds its own _id). */
export type ChannelMemberDoc = ChannelMember;

export type ChannelMembers = StoreCollection<ChannelMemberDoc>;

export const channelMembersCollection: CollectionSpec = {
  name: CHANNEL_MEMBERS,
  indexes: [{ key: { channelId: 1, userId: 1 }, name: 'channelId_1_userId_1', unique: true }],
  shardKey: { channelId: 'hashed' },
};

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

/** A removal whose member's markers keep moving is retried this many times. */
const MAX_REMOVALS = 100;

/**
 * Removes the membership; the member this call removed, else null. The delete names the markers
 * it read, so without a transaction the markers counted out are the ones removed: a marker moved
 * in between makes the delete miss, and it is tried again.
 */
export async function deleteMember(members: ChannelMembers, channelId: string, userId: string, session: Session) {
  for (let attempt = 0; attempt < MAX_REMOVALS; attempt++) {
    const doc = await members.findOne({ channelId, userId }, within(session));
    if (!doc) return null;
    const { lastReadSeq, lastDeliveredSeq } = doc;
    const { deletedCount } = await members.deleteOne({ channelId, userId, lastReadSeq, lastDeliveredSeq }, within(session));
    if (deletedCount === 1) return toChannelMember(doc);
  }
  throw new StoreError('unavailable', `the markers of ${userId} in ${channelId} keep moving; not removed`);
}

/** Memberships among these pairs: one query, one $or branch per channel. */
export async function findByKeys(members: ChannelMembers, keys: readonly ChannelMemberKey[], session?: Session): Promise<ChannelMember[]> {
  if (keys.length === 0) return [];
  const usersByChannel = new Map<string, string[]>();
  for (const { channelId, userId } of keys) usersByChannel.set(channelId, [...(usersByChannel.get(channelId) ?? []), userId]);
  const branches = [...usersByChannel].map(([channelId, userIds]) => ({ channelId, userId: { $in: userIds } }));
  return (await members.find({ $or: branches }, within(session)).toArray()).map(toChannelMember);
}

/** The channel's members after afterUserId, in user id order ({channelId, userId}). */
export async function findByChannel(members: ChannelMembers, channelId: string, afterUserId: string | null, limit: number, session?: Session) {
  const filter = { channelId, userId: { $gt: afterUserId ?? '' } };
  const docs = await members.find(filter, { sort: { userId: 1 }, limit, ...within(session) }).toArray();
  return docs.map(toChannelMember);
}

/** A member's markers. */
export function markersOf(member: Pick<ChannelMember, 'lastReadSeq' | 'lastDeliveredSeq'>): Markers {
  return { read: member.lastReadSeq, delivered: member.lastDeliveredSeq };
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
  session: Session,
): Promise<MarkerMove | null> {
  const update = read ? { lastDeliveredSeq: seq, lastReadSeq: seq } : { lastDeliveredSeq: seq };
  const doc = await members.findOneAndUpdate({ channelId, userId }, { $max: update }, { returnDocument: 'before', ...within(session) });
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
 * The id of the first channel after afterChannelId that has members, in id order ({channelId,
 * userId}: a range on its first field); null past the last. For the one-off fills of start-up, on
 * the unsharded layout only: on a sharded channelMembers a range of channelIds goes to every shard.
 */
export async function findNextChannelId(members: ChannelMembers, afterChannelId: string): Promise<string | null> {
  const [doc] = await members
    .find({ channelId: { $gt: afterChannelId } }, { sort: { channelId: 1 }, limit: 1, projection: { _id: 0, channelId: 1 } })
    .toArray();
  return doc ? doc.channelId : null;
}

/** Every member of the channel with their markers ({channelId, userId}). */
export async function findMarkersOfChannel(members: ChannelMembers, channelId: string, session: Session) {
  const projection = { _id: 0, userId: 1, lastReadSeq: 1, lastDeliveredSeq: 1 };
  const docs = await members.find({ channelId }, { projection, ...within(session) }).toArray();
  return docs.map((d) => ({ userId: d.userId, markers: markersOf(d) }));
}
