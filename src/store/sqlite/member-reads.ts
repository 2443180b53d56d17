// Reads about many members of one channel at once: a message delivered to 50,000 members reads
// each one's membership and unread mentions. Keyed row by row through JSON objects, those reads
// cost more than the rows they find; by channel they are an index range each.
import type { ChannelMember } from '../../domain/types.ts';

type Prepare = (text: string) => { all(...params: unknown[]): unknown[]; raw(raw: boolean): { all(...params: unknown[]): unknown[] } };

/** Keys of one channel worth reading together (fewer go through the general, per-key query). */
export const CHANNEL_BATCH_MIN = 16;

/** Most rows a channel-wide mention count reads before counting key by key instead. */
const MENTION_ROWS_MAX = 5000;

/** Keys grouped by channel, keeping each key's index in the request. */
export function byChannel<K extends { channelId: string }>(keys: readonly K[]): Map<string, { key: K; index: number }[]> {
  const groups = new Map<string, { key: K; index: number }[]>();
  keys.forEach((key, index) => {
    let group = groups.get(key.channelId);
    if (!group) groups.set(key.channelId, (group = []));
    group.push({ key, index });
  });
  return groups;
}

/**
 * These users' memberships of one channel. Read as bare rows of the columns a membership has
 * besides its channel (whose id every row shares): a message's fan-out reads one per subscriber,
 * and objects with a copy of the channel id each cost twice as much.
 */
export function membersOfChannel(prepare: Prepare, channelId: string, userIds: readonly string[]): ChannelMember[] {
  const rows = prepare(
    'SELECT userId, lastReadSeq, lastDeliveredSeq, joinedAt FROM channel_members WHERE channelId = ? AND userId IN (SELECT value FROM json_each(?))',
  )
    .raw(true)
    .all(channelId, JSON.stringify(userIds)) as [string, number, number, number][];
  return rows.map(([userId, lastReadSeq, lastDeliveredSeq, joinedAt]) => ({ channelId, userId, lastReadSeq, lastDeliveredSeq, joinedAt: new Date(joinedAt) }));
}

/** How many of the ascending seqs are greater than `after`. */
function countAfter(seqs: readonly number[] | undefined, after: number): number {
  if (!seqs) return 0;
  let low = 0;
  let high = seqs.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (seqs[middle]! > after) high = middle;
    else low = middle + 1;
  }
  return seqs.length - low;
}

function seqsBy(rows: readonly { seq: number }[], keyOf: (row: never) => string): Map<string, number[]> {
  const map = new Map<string, number[]>();
  for (const row of rows) {
    const key = keyOf(row as never);
    let seqs = map.get(key);
    if (!seqs) map.set(key, (seqs = []));
    seqs.push(row.seq);
  }
  return map;
}

/**
 * Unread mentions of members of one channel, each after its own read marker: the channel's
 * @channel messages (not counting one's own) and each member's direct mentions since the oldest
 * marker, read once and counted here. The direct mentions are read as the channel's mentions since
 * that marker (one index range, whoever they name) while there are few of them, else by member.
 * Null when that is more rows than counting key by key.
 */
export function mentionsInChannel(
  prepare: Prepare,
  channelId: string,
  members: readonly { userId: string; afterSeq: number }[],
): number[] | null {
  let since = Number.POSITIVE_INFINITY;
  for (const member of members) since = Math.min(since, member.afterSeq);
  const everyone = prepare(
    'SELECT seq, authorId FROM messages WHERE channelId = ? AND mentionsChannel = 1 AND seq > ? ORDER BY seq LIMIT ?',
  ).all(channelId, since, MENTION_ROWS_MAX + 1) as { seq: number; authorId: string }[];
  if (everyone.length > MENTION_ROWS_MAX) return null;
  const direct = directMentions(prepare, channelId, members, since);
  if (direct === null) return null;
  const channelWide = everyone.map((row) => row.seq);
  const ownChannelWide = seqsBy(everyone, (row: { authorId: string }) => row.authorId);
  const mentionsOf = seqsBy(direct, (row: { userId: string }) => row.userId);
  return members.map(
    ({ userId, afterSeq }) =>
      countAfter(channelWide, afterSeq) - countAfter(ownChannelWide.get(userId), afterSeq) + countAfter(mentionsOf.get(userId), afterSeq),
  );
}

/** The members' direct mentions after `since`, by seq; null when there are too many to count here. */
function directMentions(
  prepare: Prepare,
  channelId: string,
  members: readonly { userId: string }[],
  since: number,
): { userId: string; seq: number }[] | null {
  const recent = prepare('SELECT userId, seq FROM message_mentions WHERE channelId = ? AND seq > ? ORDER BY seq LIMIT ?').all(
    channelId,
    since,
    MENTION_ROWS_MAX + 1,
  ) as { userId: string; seq: number }[];
  if (recent.length <= MENTION_ROWS_MAX) {
    const wanted = new Set(members.map((member) => member.userId));
    return recent.filter((row) => wanted.has(row.userId));
  }
  // A marker far back in a busy channel: only these members' mentions, by member.
  const rows = prepare(
    `SELECT userId, seq FROM message_mentions
     WHERE channelId = ? AND userId IN (SELECT value FROM json_each(?)) AND seq > ? ORDER BY userId, seq LIMIT ?`,
  ).all(channelId, JSON.stringify(members.map((member) => member.userId)), since, MENTION_ROWS_MAX + 1) as { userId: string; seq: number }[];
  return rows.length > MENTION_ROWS_MAX ? null : rows;
}
