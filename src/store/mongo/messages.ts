// messages: one document per message, _id = its id, positioned by (channelId, seq). Every query
// here names channelId, so on the collection sharded by {channelId: 'hashed', seq: 1} each one goes
// to the shards of one channel (and a busy channel's history still splits by seq); a look-up by id
// names no channel, so in the sharded layout it goes through messageIds (message-ids.ts) first.
//
// How a message gets its seq (append-message.ts):
// - Where the deployment has transactions (replica set, sharded cluster): one transaction checks
//   the clientMessageId, takes the seq with $inc on the channel (which also moves lastActiveAt with
//   $max), inserts the message and moves the author's markers. Concurrent senders on a channel
//   conflict on the channel document and the driver retries the loser, so seqs are 1, 2, 3 ...
//   and a failed insert rolls the $inc back: no hole.
// - On a standalone server (no transactions) the message claims its seq by insertion instead:
//   the unique {channelId, seq} index decides which sender gets a seq, the loser retries with the
//   next free one, and only then is the channel's lastSeq moved forward ($max). A $inc-then-insert
//   fallback would leave a hole whenever the insert fails (a lost idempotency race, a crash), and
//   a hole breaks "lastSeq = number of messages" that unread counts rely on. The price: the
//   channel's lastSeq may lag the log for a moment (or until the next send after a crash between
//   the two writes), during which a message is readable but not yet counted as unread.
//   A duplicate clientMessageId lost to a concurrent send returns the stored message, and a
//   transient error on the insert retries the same insert (a duplicate _id then means the first
//   attempt landed).
// In the sharded layout the clientMessageId index cannot exist (a unique index must start with the
// shard key); clientMessageIds (client-message-ids.ts) holds the idempotency keys there.
import type { Message } from '../../domain/types.ts';
import type { MentionCountKey, MessageDraft, MessageRange } from '../store.ts';
import { type CollectionSpec, type IndexSpec, type Session, type Stored, type StoreCollection, within } from './database.ts';

export const MESSAGES = 'messages';

export type MessageDoc = Stored<Message>;

export type Messages = StoreCollection<MessageDoc>;

/** Positions: the seq order of a channel, unique, so two messages never share a seq. */
export const SEQ_INDEX: IndexSpec = { key: { channelId: 1, seq: 1 }, name: 'channelId_1_seq_1', unique: true };

/** Idempotency: only messages sent with a clientMessageId take part (null is stored for none). */
export const CLIENT_MESSAGE_ID_INDEX: IndexSpec = {
  key: { channelId: 1, authorId: 1, clientMessageId: 1 },
  name: 'clientMessageId',
  unique: true,
  partialFilterExpression: { clientMessageId: { $type: 'string' } },
};

/** Mentions of a user, in seq order per channel. */
const MENTIONS_INDEX: IndexSpec = { key: { channelId: 1, mentions: 1, seq: 1 }, name: 'channelId_1_mentions_1_seq_1' };

/**
 * Only the few @channel messages, in seq order per channel: mention counts scan just those. Its
 * key is not SEQ_INDEX's: two indexes on one key pattern exist only with different options and a
 * recent feature-compatibility version. The authorId in the key lets the count leave out the
 * member's own messages without reading them.
 */
const CHANNEL_MENTIONS_INDEX: IndexSpec = {
  key: { channelId: 1, seq: 1, authorId: 1 },
  name: 'channelMentions',
  partialFilterExpression: { mentionsChannel: true },
};

export function messagesCollection(sharded: boolean): CollectionSpec {
  return {
    name: MESSAGES,
    indexes: sharded ? [SEQ_INDEX, MENTIONS_INDEX, CHANNEL_MENTIONS_INDEX] : [SEQ_INDEX, CLIENT_MESSAGE_ID_INDEX, MENTIONS_INDEX, CHANNEL_MENTIONS_INDEX],
    shardKey: { channelId: 'hashed', seq: 1 },
  };
}

/** The domain record of a stored message. */
export function toMessage(doc: MessageDoc): Message {
  return {
    id: doc._id,
    channelId: doc.channelId,
    seq: doc.seq,
    authorId: doc.authorId,
    text: doc.text,
    mentions: [...doc.mentions],
    mentionsChannel: doc.mentionsChannel,
    sentAt: doc.sentAt,
    clientMessageId: doc.clientMessageId ?? null,
  };
}

/**
 * The message this author already stored with this clientMessageId, if any (the unsharded layout).
 * The filter states the index's partial filter ($type: 'string') beside the equality: the planner
 * uses a partial index only for a filter that implies its partialFilterExpression, and an equality
 * on a string does not imply $type (expression_algo.cpp's isSubsetOf has no such rule), so without
 * it this look-up would scan the channel.
 */
export async function findByClientMessageId(
  messages: Messages,
  draft: MessageDraft & { clientMessageId: string },
  session: Session,
): Promise<Message | null> {
  const filter = { channelId: draft.channelId, authorId: draft.authorId, clientMessageId: { $eq: draft.clientMessageId, $type: 'string' as const } };
  const doc = await messages.findOne(filter, within(session));
  return doc ? toMessage(doc) : null;
}

/** Stores the draft at seq; a taken seq or clientMessageId is a duplicate-key error. */
export async function insertMessage(messages: Messages, draft: MessageDraft, seq: number, session: Session): Promise<Message> {
  const message: Message = { ...draft, mentions: [...draft.mentions], seq };
  const { id, ...fields } = message;
  await messages.insertOne({ _id: id, ...fields }, within(session));
  return message;
}

/** The highest seq stored in the channel (0 when none): the last entry of {channelId, seq}. */
export async function findLatestSeq(messages: Messages, channelId: string): Promise<number> {
  const [doc] = await messages.find({ channelId }, { sort: { seq: -1 }, limit: 1, projection: { _id: 0, seq: 1 } }).toArray();
  return doc ? doc.seq : 0;
}

/** Messages with these ids (_id; unknown ids left out): the unsharded layout, and a retried insert's check. */
export async function findByIds(messages: Messages, ids: readonly string[]): Promise<Message[]> {
  if (ids.length === 0) return [];
  return (await messages.find({ _id: { $in: [...ids] } }).toArray()).map(toMessage);
}

/** Messages at these positions: one query, one $or branch per channel ({channelId, seq}). */
export async function findBySeqs(messages: Messages, keys: readonly { channelId: string; seq: number }[], session?: Session) {
  if (keys.length === 0) return [];
  const seqsByChannel = new Map<string, number[]>();
  for (const { channelId, seq } of keys) seqsByChannel.set(channelId, [...(seqsByChannel.get(channelId) ?? []), seq]);
  const branches = [...seqsByChannel].map(([channelId, seqs]) => ({ channelId, seq: { $in: seqs } }));
  return (await messages.find({ $or: branches }, within(session)).toArray()).map(toMessage);
}

/** A channel's messages in a seq range, in seq order either way ({channelId, seq}). */
export async function findByChannelInRange(messages: Messages, channelId: string, range: MessageRange): Promise<Message[]> {
  const seq = { $gt: range.afterSeq ?? 0, ...(range.beforeSeq === undefined ? {} : { $lt: range.beforeSeq }) };
  const sort = { seq: range.newestFirst ? -1 : 1 } as const;
  return (await messages.find({ channelId, seq }, { sort, limit: range.limit }).toArray()).map(toMessage);
}

/**
 * Per key, the messages after afterSeq, not by the user, that mention the user or the channel: one
 * aggregation. Each key is two $or branches, one per index ({channelId, mentions, seq}, and the
 * partial @channel index, whose partial filter the branch's mentionsChannel: true implies); $or returns a message once even when it matches both, and the $group
 * counts each message at most once per key, so "@channel @bob" counts once for bob.
 */
export async function countMentions(messages: Messages, keys: readonly MentionCountKey[]): Promise<number[]> {
  if (keys.length === 0) return [];
  const branches = keys.flatMap(({ channelId, userId, afterSeq }) => [
    { channelId, mentions: userId, seq: { $gt: afterSeq }, authorId: { $ne: userId } },
    { channelId, mentionsChannel: true, seq: { $gt: afterSeq }, authorId: { $ne: userId } },
  ]);
  const group: Record<string, unknown> = { _id: null };
  keys.forEach(({ channelId, userId, afterSeq }, i) => {
    const mentioned = { $or: [{ $in: [userId, { $ifNull: ['$mentions', []] }] }, { $eq: ['$mentionsChannel', true] }] };
    const test = { $and: [{ $eq: ['$channelId', channelId] }, { $gt: ['$seq', afterSeq] }, { $ne: ['$authorId', userId] }, mentioned] };
    group[`k${i}`] = { $sum: { $cond: [test, 1, 0] } };
  });
  const [counts] = await messages.aggregate<Record<string, number>>([{ $match: { $or: branches } }, { $group: group }]).toArray();
  return keys.map((_, i) => counts?.[`k${i}`] ?? 0);
}
