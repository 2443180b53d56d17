// How far the outbox's deriver has read the message log. pushCursors: one document per channel,
// _id = the channel's id, moved by compare-and-set; sharded on the hashed _id like channels.
// pushScans: one document, the log scan's mark and who holds the scan (unsharded). The scan reads
// channels by activity ({lastActiveAt, _id} on channels, declared here beside the one query that
// needs it): channels of the whole deployment, so on channels sharded by _id each page of the scan
// goes to every shard. That is meant (one background scan at a time, a page per call, never a
// request's read), and the query says so in its comment, which the server logs with it.
import type { PushCursor } from '../../domain/push.ts';
import type { ActivityPosition } from '../store.ts';
import type { ChannelDoc, Channels } from './channels.ts';
import { type IndexSpec, type Session, type StoreCollection, within } from './database.ts';
import { isDuplicateKey } from './errors.ts';

export const PUSH_CURSORS = 'pushCursors';
export const PUSH_SCANS = 'pushScans';

export interface PushCursorDoc {
  _id: string;
  seq: number;
  memberAfter: string | null;
}

export interface PushScanDoc {
  _id: string;
  mark: Date;
  owner: string | null;
  leaseUntil: Date;
}

export type PushCursors = StoreCollection<PushCursorDoc>;
export type PushScans = StoreCollection<PushScanDoc>;

/** Only _id is queried. */
export const pushCursorIndexes: readonly IndexSpec[] = [];
export const pushScanIndexes: readonly IndexSpec[] = [];
/** On channels: the log scan's order. */
export const channelActivityIndexes: readonly IndexSpec[] = [{ key: { lastActiveAt: 1, _id: 1 }, name: 'lastActiveAt_1__id_1' }];

const SCAN = 'channels';

/** Thrown inside a unit when the cursor moved: the transaction rolls back the unit's writes. */
export class CursorMoved extends Error {
  override name = 'CursorMoved';
}

export async function findCursors(cursors: PushCursors, channelIds: readonly string[]) {
  if (channelIds.length === 0) return [];
  const docs = await cursors.find({ _id: { $in: [...channelIds] } }).toArray();
  return docs.map((d) => ({ channelId: d._id, seq: d.seq, memberAfter: d.memberAfter ?? null }));
}

/** Moves the channel's cursor from `from` to `to`; throws CursorMoved when it is not at `from`. */
export async function moveCursor(cursors: PushCursors, channelId: string, from: PushCursor | null, to: PushCursor, session: Session) {
  if (from === null) {
    try {
      await cursors.insertOne({ _id: channelId, seq: to.seq, memberAfter: to.memberAfter }, within(session));
    } catch (error) {
      if (isDuplicateKey(error)) throw new CursorMoved(channelId);
      throw error;
    }
    return;
  }
  const moved = await cursors.updateOne(
    { _id: channelId, seq: from.seq, memberAfter: from.memberAfter },
    { $set: { seq: to.seq, memberAfter: to.memberAfter } },
    within(session),
  );
  if (moved.matchedCount !== 1) throw new CursorMoved(channelId);
}

/** Channels active at or after `since`, by (lastActiveAt, _id), after a position. */
export async function findActiveSince(channels: Channels, since: Date, after: ActivityPosition | null, limit: number): Promise<ChannelDoc[]> {
  const filter = after
    ? { lastActiveAt: { $gte: since }, $or: [{ lastActiveAt: { $gt: after.lastActiveAt } }, { lastActiveAt: after.lastActiveAt, _id: { $gt: after.id } }] }
    : { lastActiveAt: { $gte: since } };
  const comment = 'broadcast: the push log scan reads channels of every shard';
  return channels.find(filter, { sort: { lastActiveAt: 1, _id: 1 }, limit, comment }).toArray();
}

export async function readMark(scans: PushScans): Promise<Date | null> {
  const doc = await scans.findOne({ _id: SCAN });
  return doc ? doc.mark : null;
}

/** Takes the scan when nobody holds it (creating the mark at `now` on first use); the mark, or null. */
export async function claimScan(scans: PushScans, owner: string, now: Date, leaseUntil: Date): Promise<Date | null> {
  const doc = await scans.findOneAndUpdate(
    { _id: SCAN, leaseUntil: { $lte: now } },
    { $set: { owner, leaseUntil } },
    { returnDocument: 'after' },
  );
  if (doc) return doc.mark;
  try {
    await scans.insertOne({ _id: SCAN, mark: now, owner, leaseUntil });
    return now;
  } catch (error) {
    if (isDuplicateKey(error)) return null;
    throw error;
  }
}

export async function finishScan(scans: PushScans, owner: string, mark: Date): Promise<void> {
  await scans.updateOne({ _id: SCAN, owner }, { $max: { mark }, $set: { owner: null, leaseUntil: new Date(0) } });
}
