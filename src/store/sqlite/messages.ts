// Messages: appending one (its seq taken from the channel, its mentions recorded, the author's
// markers moved past it), reading them by id, by seq or by range, and counting unread mentions.
import type { Message } from '../../domain/types.ts';
import { type MentionCountKey, type MessageDraft, type MessageRange, StoreError } from '../store.ts';
import { moveMarkers } from './channels.ts';
import { CHANNEL_BATCH_MIN, byChannel, mentionsInChannel } from './member-reads.ts';
import { type MessageRow, toMessage } from './rows.ts';
import type { Sql } from './sql.ts';

export type Appended = { message: Message; created: boolean };

/** Inside a unit: takes the channel's next seq and stores the message; a retried send finds its first one. */
export function appendMessage(sql: Sql, draft: MessageDraft): Appended {
  if (draft.clientMessageId !== null) {
    const stored = sql.get<MessageRow>(
      'SELECT * FROM messages WHERE channelId = ? AND authorId = ? AND clientMessageId = ?',
      draft.channelId, draft.authorId, draft.clientMessageId,
    );
    if (stored) return { message: toMessage(stored), created: false };
  }
  const sentAt = draft.sentAt.getTime();
  const channel = sql.get<{ lastSeq: number }>(
    'UPDATE channels SET lastSeq = lastSeq + 1, lastActiveAt = max(lastActiveAt, ?) WHERE id = ? RETURNING lastSeq',
    sentAt, draft.channelId,
  );
  if (!channel) throw new StoreError('unavailable', `channel ${draft.channelId} does not exist`);
  const seq = channel.lastSeq;
  sql.run(
    `INSERT INTO messages (id, channelId, seq, authorId, text, mentions, mentionsChannel, sentAt, clientMessageId)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    draft.id, draft.channelId, seq, draft.authorId, draft.text, JSON.stringify(draft.mentions),
    draft.mentionsChannel ? 1 : 0, sentAt, draft.clientMessageId,
  );
  // A message that mentions the channel counts for everyone already; direct rows would double it.
  if (!draft.mentionsChannel) {
    for (const userId of new Set(draft.mentions)) {
      if (userId !== draft.authorId) {
        sql.run('INSERT INTO message_mentions (channelId, userId, seq) VALUES (?, ?, ?)', draft.channelId, userId, seq);
      }
    }
  }
  moveMarkers(sql, draft.channelId, draft.authorId, seq, true);
  return { message: { ...draft, seq }, created: true };
}

export function findMessagesByIds(sql: Sql, ids: readonly string[]): Message[] {
  return sql.all<MessageRow>('SELECT m.* FROM json_each(?) k JOIN messages m ON m.id = k.value', JSON.stringify(ids)).map(toMessage);
}

export function findMessagesBySeq(sql: Sql, keys: readonly { channelId: string; seq: number }[]): Message[] {
  return sql.all<MessageRow>(
    `SELECT m.* FROM json_each(?) k JOIN messages m
     ON m.channelId = json_extract(k.value, '$.channelId') AND m.seq = json_extract(k.value, '$.seq')`,
    JSON.stringify(keys),
  ).map(toMessage);
}

export function findMessagesByChannel(sql: Sql, channelId: string, range: MessageRange): Message[] {
  const order = range.newestFirst ? 'DESC' : 'ASC';
  return sql.all<MessageRow>(
    `SELECT * FROM messages WHERE channelId = ? AND seq > ? AND seq < ? ORDER BY seq ${order} LIMIT ?`,
    channelId, range.afterSeq ?? 0, range.beforeSeq ?? Number.MAX_SAFE_INTEGER, range.limit,
  ).map(toMessage);
}

/** Per key, the mentions of the user after a seq: direct ones and @channel ones by others. */
export function countMentions(sql: Sql, keys: readonly MentionCountKey[]): number[] {
  const counts: number[] = new Array(keys.length);
  const scattered: { key: MentionCountKey; index: number }[] = [];
  for (const [channelId, group] of byChannel(keys)) {
    const together = group.length >= CHANNEL_BATCH_MIN ? mentionsInChannel(sql.prepare, channelId, group.map(({ key }) => key)) : null;
    if (together) group.forEach(({ index }, i) => (counts[index] = together[i]!));
    else scattered.push(...group);
  }
  if (scattered.length > 0) {
    const rows = sql.all<{ count: number }>(
      `WITH k AS (SELECT key AS i, json_extract(value, '$.channelId') AS c, json_extract(value, '$.userId') AS u,
                    json_extract(value, '$.afterSeq') AS s FROM json_each(?))
       SELECT (SELECT count(*) FROM message_mentions mm WHERE mm.channelId = k.c AND mm.userId = k.u AND mm.seq > k.s)
            + (SELECT count(*) FROM messages m WHERE m.channelId = k.c AND m.mentionsChannel = 1 AND m.seq > k.s
                 AND m.authorId <> k.u) AS count
       FROM k ORDER BY k.i`,
      JSON.stringify(scattered.map(({ key }) => key)),
    );
    scattered.forEach(({ index }, i) => (counts[index] = rows[i]!.count));
  }
  return counts;
}
