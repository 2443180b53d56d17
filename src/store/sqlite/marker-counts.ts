// marker_counts on SQLite: read receipts from counts kept as markers move (see ../marker-counts.ts).
// Every function here runs inside the caller's transaction.
import type Database from 'better-sqlite3';
import { BUCKET_SPAN, type MarkerCount, type Markers, type MarkersMove, countChanges, rangesFor, reachOfKeys } from '../marker-counts.ts';
import type { Reach, ReachKey } from '../store.ts';
import type { ChannelMemberRow } from './rows.ts';

/** The store's prepared statement for a text (prepared once per store). */
export type Prepare = (text: string) => Database.Statement;

/** A member row's markers; null for no row. */
export function markersOf(row: Pick<ChannelMemberRow, 'lastReadSeq' | 'lastDeliveredSeq'> | undefined | null): Markers | null {
  return row ? { read: row.lastReadSeq, delivered: row.lastDeliveredSeq } : null;
}

/** Changes the channel's counts for these moves of its members' markers; rows that reach 0 are deleted. */
export function moveCounts(sql: Prepare, channelId: string, moves: readonly MarkersMove[]): void {
  for (const change of countChanges(moves)) {
    const row = sql(
      `INSERT INTO marker_counts (channelId, span, seq, read, delivered) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (channelId, span, seq) DO UPDATE SET read = read + excluded.read, delivered = delivered + excluded.delivered
       RETURNING read, delivered`,
    ).get(channelId, change.span, change.seq, change.read, change.delivered) as Markers;
    if (row.read === 0 && row.delivered === 0) {
      sql('DELETE FROM marker_counts WHERE channelId = ? AND span = ? AND seq = ?').run(channelId, change.span, change.seq);
    }
  }
}

/** Per key, the other members whose markers have reached the seq: two statements for the whole batch (run them in one read transaction). */
export function countReach(sql: Prepare, keys: readonly ReachKey[]): Reach[] {
  if (keys.length === 0) return [];
  const ranges = [...rangesFor(keys)].flatMap(([channelId, list]) => list.map((range) => ({ channelId, ...range })));
  const rows = sql(
    `SELECT c.channelId, c.span, c.seq, c.read, c.delivered FROM json_each(?) k JOIN marker_counts c
       ON c.channelId = json_extract(k.value, '$.channelId') AND c.span = json_extract(k.value, '$.span')
      AND c.seq >= json_extract(k.value, '$.from') AND c.seq < json_extract(k.value, '$.to')`,
  ).all(JSON.stringify(ranges)) as (MarkerCount & { channelId: string })[];
  const rowsByChannel = new Map<string, MarkerCount[]>();
  for (const row of rows) {
    const list = rowsByChannel.get(row.channelId);
    if (list) list.push(row);
    else rowsByChannel.set(row.channelId, [row]);
  }
  const authorKeys = new Map(keys.map((k) => [`${k.channelId}\n${k.authorId}`, { channelId: k.channelId, userId: k.authorId }]));
  const authors = sql(
    `SELECT m.* FROM json_each(?) k JOIN channel_members m
     ON m.channelId = json_extract(k.value, '$.channelId') AND m.userId = json_extract(k.value, '$.userId')`,
  ).all(JSON.stringify([...authorKeys.values()])) as ChannelMemberRow[];
  const markersByAuthor = new Map(authors.map((m) => [`${m.channelId}\n${m.userId}`, markersOf(m)!]));
  return reachOfKeys(keys, rowsByChannel, (channelId, authorId) => markersByAuthor.get(`${channelId}\n${authorId}`));
}

/** True when the file has the counts table already. */
export function hasMarkerCounts(db: Database.Database): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'marker_counts'").get() !== undefined;
}

/**
 * Counts every member's markers from channel_members. Run once, in the transaction that creates
 * the table: a file written before the counts existed has members (and markers) that no move ever
 * counted, and receipts read only the counts.
 */
export function fillMarkerCounts(db: Database.Database): void {
  db.prepare(
    `INSERT INTO marker_counts (channelId, span, seq, read, delivered)
     SELECT channelId, span, seq, sum(read), sum(delivered) FROM (
       SELECT channelId, 1 AS span, lastReadSeq AS seq, 1 AS read, 0 AS delivered FROM channel_members
       UNION ALL SELECT channelId, 1, lastDeliveredSeq, 0, 1 FROM channel_members
       UNION ALL SELECT channelId, ${BUCKET_SPAN}, lastReadSeq - lastReadSeq % ${BUCKET_SPAN}, 1, 0 FROM channel_members
       UNION ALL SELECT channelId, ${BUCKET_SPAN}, lastDeliveredSeq - lastDeliveredSeq % ${BUCKET_SPAN}, 0, 1 FROM channel_members
     ) GROUP BY channelId, span, seq`,
  ).run();
}
