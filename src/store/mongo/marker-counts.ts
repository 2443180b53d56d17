// markerCounts: read receipts from counts kept as markers move (see ../marker-counts.ts), one
// document per (channelId, span, seq, stripe). In a 50,000-member channel many members move their
// markers every second, mostly to the same newest seqs; counters that every move $inc'ed in one
// document would make concurrent transactions conflict and retry. So each count is spread over
// STRIPES documents, a member always changing the stripe its userId hashes to, and reads add the
// stripes up. {channelId, span, seq, stripe} is unique (upserts race on it) and serves every query;
// every query and write names channelId, the (hashed) shard key.
import type { Reach, ReachKey } from '../store.ts';
import { type MarkerCount, type MarkersMove, countChanges, rangesFor, reachOfKeys } from '../marker-counts.ts';
import * as channelMembers from './channel-members.ts';
import { type CollectionSpec, type Session, type StoreCollection, within } from './database.ts';

export const MARKER_COUNTS = 'markerCounts';

export type MarkerCountDoc = MarkerCount & { channelId: string; stripe: number };

export type MarkerCounts = StoreCollection<MarkerCountDoc>;

export const markerCountsCollection: CollectionSpec = {
  name: MARKER_COUNTS,
  indexes: [{ key: { channelId: 1, span: 1, seq: 1, stripe: 1 }, name: 'channelId_1_span_1_seq_1_stripe_1', unique: true }],
  shardKey: { channelId: 'hashed' },
};

/** Documents per count: few enough for reads to add up, enough that concurrent moves rarely meet. */
const STRIPES = 8;

/** The stripe a member's moves change (FNV-1a of the userId). */
export function stripeOf(userId: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < userId.length; i++) hash = Math.imul(hash ^ userId.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % STRIPES;
}

/** Applies changes to one stripe of the channel's counts; a document that reaches 0 is deleted. */
async function changeStripe(
  counts: MarkerCounts,
  channelId: string,
  stripe: number,
  changes: readonly MarkerCount[],
  session: Session,
): Promise<void> {
  for (const { span, seq, read, delivered } of changes) {
    const doc = await counts.findOneAndUpdate(
      { channelId, span, seq, stripe },
      { $inc: { read, delivered } },
      { upsert: true, returnDocument: 'after', projection: { read: 1, delivered: 1 }, ...within(session) },
    );
    // Without a transaction another move may have changed it since: delete only a document still at 0.
    if (doc && doc.read === 0 && doc.delivered === 0) {
      await counts.deleteOne({ channelId, span, seq, stripe, read: 0, delivered: 0 }, within(session));
    }
  }
}

/** Changes the channel's counts for these moves of one member's markers. */
export async function moveCounts(
  counts: MarkerCounts,
  channelId: string,
  userId: string,
  moves: readonly MarkersMove[],
  session: Session,
): Promise<void> {
  await changeStripe(counts, channelId, stripeOf(userId), countChanges(moves), session);
}

/** Counts members who join with these markers, one stripe at a time. */
export async function countJoined(
  counts: MarkerCounts,
  channelId: string,
  userIds: readonly string[],
  markers: { read: number; delivered: number },
  session: Session,
): Promise<void> {
  const joinedByStripe = new Map<number, MarkersMove[]>();
  for (const userId of userIds) {
    const stripe = stripeOf(userId);
    const moves = joinedByStripe.get(stripe);
    if (moves) moves.push({ before: null, after: markers });
    else joinedByStripe.set(stripe, [{ before: null, after: markers }]);
  }
  for (const [stripe, moves] of joinedByStripe) await changeStripe(counts, channelId, stripe, countChanges(moves), session);
}

/**
 * Per key, the other members whose markers have reached the seq: two queries for the whole batch,
 * the counts covering the keys (one $or branch per range of {channelId, span, seq}) and the
 * authors' memberships, from one snapshot where the session is a transaction's.
 */
export async function countReach(
  counts: MarkerCounts,
  members: channelMembers.ChannelMembers,
  keys: readonly ReachKey[],
  session: Session,
): Promise<Reach[]> {
  if (keys.length === 0) return [];
  const branches = [...rangesFor(keys)].flatMap(([channelId, ranges]) =>
    ranges.map(({ span, from, to }) => ({ channelId, span, seq: { $gte: from, $lt: to } })),
  );
  const projection = { _id: 0, channelId: 1, span: 1, seq: 1, read: 1, delivered: 1 };
  const docs = await counts.find({ $or: branches }, { projection, ...within(session) }).toArray();
  const rowsByChannel = new Map<string, MarkerCount[]>();
  for (const doc of docs) {
    const list = rowsByChannel.get(doc.channelId);
    if (list) list.push(doc);
    else rowsByChannel.set(doc.channelId, [doc]);
  }
  const authorKeys = [...new Map(keys.map((k) => [`${k.channelId}\n${k.authorId}`, { channelId: k.channelId, userId: k.authorId }])).values()];
  const authors = await channelMembers.findByKeys(members, authorKeys, session);
  const markersByAuthor = new Map(authors.map((m) => [`${m.channelId}\n${m.userId}`, { read: m.lastReadSeq, delivered: m.lastDeliveredSeq }]));
  return reachOfKeys(keys, rowsByChannel, (channelId, authorId) => markersByAuthor.get(`${channelId}\n${authorId}`));
}

/** Says the counts were filled from the memberships (no channel has the id ''). */
const FILLED = { channelId: '', span: 0, seq: 0, stripe: 0 };

/** Replaces the channel's counts with those of its members' markers now. */
async function recountChannel(counts: MarkerCounts, members: channelMembers.ChannelMembers, channelId: string, session: Session) {
  const stale = await counts.find({ channelId }, { projection: { _id: 1 }, ...within(session) }).toArray();
  for (const { _id } of stale) await counts.deleteOne({ channelId, _id }, within(session));
  const movesByStripe = new Map<number, MarkersMove[]>();
  for (const { userId, markers } of await channelMembers.findMarkersOfChannel(members, channelId, session)) {
    const stripe = stripeOf(userId);
    const moves = movesByStripe.get(stripe);
    if (moves) moves.push({ before: null, after: markers });
    else movesByStripe.set(stripe, [{ before: null, after: markers }]);
  }
  const docs = [...movesByStripe].flatMap(([stripe, moves]) => countChanges(moves).map((count) => ({ channelId, stripe, ...count })));
  if (docs.length > 0) await counts.insertMany(docs, within(session));
}

/**
 * Counts every member's markers once, at start-up, unless done before. A deployment that stored
 * memberships before the counts existed has markers that no move ever counted, and receipts read
 * only the counts. Each channel is recounted in a unit of its own, replacing whatever it held, so
 * processes starting together (or one restarted after dying part-way) may both fill: where units
 * are transactions, a recount and a concurrent move of the same channel conflict and one retries.
 * The unsharded layout only: the sharded layout starts from an empty database.
 */
export async function fillOnce(
  counts: MarkerCounts,
  members: channelMembers.ChannelMembers,
  unit: (fn: (session: Session) => Promise<void>) => Promise<void>,
): Promise<void> {
  if (await counts.findOne(FILLED)) return;
  for (let channelId = await channelMembers.findNextChannelId(members, ''); channelId !== null; ) {
    const current = channelId;
    await unit((session) => recountChannel(counts, members, current, session));
    channelId = await channelMembers.findNextChannelId(members, current);
  }
  await counts.updateOne(FILLED, { $setOnInsert: { read: 0, delivered: 0 } }, { upsert: true });
}
