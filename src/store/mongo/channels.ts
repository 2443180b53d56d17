// channels: one document per channel, _id = its id. The channel holds the message counter
// (lastSeq), lastActiveAt and memberCount. Two partial unique indexes decide name races: a GROUP
// channel's name and a DIRECT channel's directKey are unique per organization. They are named
// after the store's keys, which a duplicate-key error reports.
import type { Channel } from '../../domain/types.ts';
import type { ActivityPosition } from '../store.ts';
import { type IndexSpec, type Session, type Stored, type StoreCollection, within } from './database.ts';

export const CHANNELS = 'channels';

export type ChannelDoc = Stored<Channel>;

export type Channels = StoreCollection<ChannelDoc>;

export const channelIndexes: readonly IndexSpec[] = [
  { key: { orgId: 1, name: 1 }, name: 'channelName', unique: true, partialFilterExpression: { kind: 'GROUP' } },
  { key: { orgId: 1, directKey: 1 }, name: 'directKey', unique: true, partialFilterExpression: { kind: 'DIRECT' } },
];

/** The domain record of a stored channel. */
export function toChannel(doc: ChannelDoc): Channel {
  return {
    id: doc._id,
    orgId: doc.orgId,
    kind: doc.kind,
    name: doc.name,
    directKey: doc.directKey ?? null,
    lastSeq: doc.lastSeq,
    lastActiveAt: doc.lastActiveAt,
    memberCount: doc.memberCount,
    createdAt: doc.createdAt,
  };
}

/** Stores a new channel with no messages and no members counted yet; a taken name or directKey is a duplicate-key error. */
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

/** The channel's newest seq, null when there is no such channel. */
export async function findLastSeq(channels: Channels, channelId: string, session: Session): Promise<number | null> {
  const doc = await channels.findOne({ _id: channelId }, { projection: { lastSeq: 1 }, ...within(session) });
  return doc ? doc.lastSeq : null;
}

/** Takes the channel's next seq ($inc) and moves lastActiveAt to the message ($max); null when there is no such channel. */
export async function takeNextSeq(channels: Channels, channelId: string, sentAt: Date, session: Session) {
  const doc = await channels.findOneAndUpdate(
    { _id: channelId },
    { $inc: { lastSeq: 1 }, $max: { lastActiveAt: sentAt } },
    { returnDocument: 'after', projection: { lastSeq: 1 }, ...within(session) },
  );
  return doc ? doc.lastSeq : null;
}

/** Moves lastSeq and lastActiveAt forward to a message already stored ($max: concurrent senders may finish in any order). */
export async function coverStoredMessage(channels: Channels, channelId: string, seq: number, sentAt: Date): Promise<void> {
  await channels.updateOne({ _id: channelId }, { $max: { lastSeq: seq, lastActiveAt: sentAt } });
}

/** Adds delta to the member count. */
export async function addToMemberCount(channels: Channels, channelId: string, delta: number, session: Session) {
  await channels.updateOne({ _id: channelId }, { $inc: { memberCount: delta } }, within(session));
}

/** Channels with these ids (unknown ids left out). */
export async function findByIds(channels: Channels, ids: readonly string[]): Promise<Channel[]> {
  if (ids.length === 0) return [];
  return (await channels.find({ _id: { $in: [...ids] } }).toArray()).map(toChannel);
}

/** The organization's DIRECT channel with this key ({orgId, directKey}, partial on DIRECT). */
export async function findDirect(channels: Channels, orgId: string, directKey: string): Promise<Channel | null> {
  const doc = await channels.findOne({ orgId, directKey, kind: 'DIRECT' });
  return doc ? toChannel(doc) : null;
}

/**
 * Among these channels (the user's, through the _id index), those of one organization, most
 * recently active first, strictly after a position. The sort is over one user's channels only.
 */
export async function findActiveAmong(
  channels: Channels,
  ids: readonly string[],
  orgId: string,
  after: ActivityPosition | null,
  limit: number,
): Promise<Channel[]> {
  if (ids.length === 0) return [];
  const position = after
    ? { $or: [{ lastActiveAt: { $lt: after.lastActiveAt } }, { lastActiveAt: after.lastActiveAt, _id: { $lt: after.id } }] }
    : {};
  const docs = await channels
    .find({ _id: { $in: [...ids] }, orgId, ...position }, { sort: { lastActiveAt: -1, _id: -1 }, limit })
    .toArray();
  return docs.map(toChannel);
}
