// channels: one document per channel, _id = its id, holding the message counter (lastSeq) and
// lastActiveAt; sharded on the hashed _id, so reads by id and the seq $inc go to one shard, and new
// channels (whose ids grow with time) spread over every shard. Its member count is kept apart
// (member-counts.ts) so that joins never write the document every send writes.
// Unique names: in the unsharded layout two partial unique indexes decide name races (a GROUP
// channel's name and a DIRECT channel's directKey are unique per organization), named after the
// store's keys, which a duplicate-key error reports. A sharded collection cannot hold them (a
// unique index must start with the shard key), so the sharded layout reserves names in
// channelKeys (channel-keys.ts) instead.
import type { Channel } from '../../domain/types.ts';
import type { ActivityPosition } from '../store.ts';
import { type CollectionSpec, type IndexSpec, type Session, type Stored, type StoreCollection, within } from './database.ts';

export const CHANNELS = 'channels';

export type ChannelDoc = Stored<Channel>;

export type Channels = StoreCollection<ChannelDoc>;

/** An organization's channels, most recently active first: serves a page of a member's many channels in that order. */
export const ACTIVITY_INDEX: IndexSpec = { key: { orgId: 1, lastActiveAt: -1, _id: -1 }, name: 'orgId_1_lastActiveAt_-1__id_-1' };

const NAME_INDEXES: readonly IndexSpec[] = [
  { key: { orgId: 1, name: 1 }, name: 'channelName', unique: true, partialFilterExpression: { kind: 'GROUP' } },
  { key: { orgId: 1, directKey: 1 }, name: 'directKey', unique: true, partialFilterExpression: { kind: 'DIRECT' } },
];

export function channelsCollection(sharded: boolean): CollectionSpec {
  return { name: CHANNELS, indexes: sharded ? [ACTIVITY_INDEX] : [...NAME_INDEXES, ACTIVITY_INDEX], shardKey: { _id: 'hashed' } };
}

/** The domain record of a stored channel, with the members counted apart. */
export function toChannel(doc: ChannelDoc, counted: number): Channel {
  return {
    id: doc._id,
    orgId: doc.orgId,
    kind: doc.kind,
    name: doc.name,
    directKey: doc.directKey ?? null,
    lastSeq: doc.lastSeq,
    lastActiveAt: doc.lastActiveAt,
    memberCount: (doc.memberCount ?? 0) + counted,
    createdAt: doc.createdAt,
  };
}

/** Stores a new channel with no messages; in the unsharded layout a taken name or directKey is a duplicate-key error. */
export async function insertChannel(channels: Channels, channel: Channel, session: Session): Promise<void> {
  await channels.insertOne(
    {
      _id: channel.id,
      orgId: channel.orgId,
      kind: channel.kind,
      name: channel.name,
      directKey: channel.directKey,
      lastSeq: 0,
      lastActiveAt: channel.lastActiveAt,
      memberCount: 0,
      createdAt: channel.createdAt,
    },
    within(session),
  );
}

/** The channel's newest seq and organization (_id), null when there is no such channel. */
export async function findPosition(channels: Channels, channelId: string, session: Session) {
  const doc = await channels.findOne({ _id: channelId }, { projection: { lastSeq: 1, orgId: 1 }, ...within(session) });
  return doc ? { lastSeq: doc.lastSeq, orgId: doc.orgId } : null;
}

/** Takes the channel's next seq ($inc) and moves lastActiveAt to the message ($max) (_id); null when there is no such channel. */
export async function takeNextSeq(channels: Channels, channelId: string, sentAt: Date, session: Session) {
  const doc = await channels.findOneAndUpdate(
    { _id: channelId },
    { $inc: { lastSeq: 1 }, $max: { lastActiveAt: sentAt } },
    { returnDocument: 'after', projection: { lastSeq: 1 }, ...within(session) },
  );
  return doc ? doc.lastSeq : null;
}

/** Moves lastSeq and lastActiveAt forward to a message already stored (_id; $max: concurrent senders may finish in any order). */
export async function coverStoredMessage(channels: Channels, channelId: string, seq: number, sentAt: Date): Promise<void> {
  await channels.updateOne({ _id: channelId }, { $max: { lastSeq: seq, lastActiveAt: sentAt } });
}

/** Channels with these ids (_id), unknown ids left out. */
export async function findByIds(channels: Channels, ids: readonly string[]): Promise<ChannelDoc[]> {
  if (ids.length === 0) return [];
  return channels.find({ _id: { $in: [...ids] } }).toArray();
}

/** The organization's DIRECT channel with this key, in the unsharded layout ({orgId, directKey}, partial on DIRECT: the filter names kind). */
export async function findDirect(channels: Channels, orgId: string, directKey: string): Promise<ChannelDoc | null> {
  return channels.findOne({ orgId, directKey, kind: 'DIRECT' });
}

const ACTIVITY_ORDER = { lastActiveAt: -1, _id: -1 } as const;

/** The name MongoDB gives the _id index. */
const ID_INDEX = '_id_';

/**
 * A page of a member's channels in one organization (ids: all of them, from the member's list),
 * most recently active first, strictly after a position. When the page holds all of them, they are
 * read by _id and sorted: sorting the page is what the page costs (walking the organization's
 * channels instead could pass thousands of others first). Otherwise the organization's channels
 * are walked in ACTIVITY_INDEX order, keeping the member's (_id is in the index: no document is
 * read to test it) until the page is full (reading them all by _id would sort them all in memory).
 * Either plan is pinned by hint, so the planner cannot pick the other one.
 */
export async function findActiveAmong(
  channels: Channels,
  ids: readonly string[],
  orgId: string,
  after: ActivityPosition | null,
  limit: number,
): Promise<ChannelDoc[]> {
  if (ids.length === 0) return [];
  const position = after
    ? { $or: [{ lastActiveAt: { $lt: after.lastActiveAt } }, { lastActiveAt: after.lastActiveAt, _id: { $lt: after.id } }] }
    : {};
  const filter = { orgId, _id: { $in: [...ids] }, ...position };
  const hint = ids.length <= limit ? ID_INDEX : ACTIVITY_INDEX.name;
  return channels.find(filter, { sort: ACTIVITY_ORDER, limit, hint }).toArray();
}
