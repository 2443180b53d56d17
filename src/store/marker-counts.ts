// Read receipts from counts kept as markers move, for both stores. Per channel, the counts say how
// many members have their read / delivery marker at each seq (rows of span 1) and within each range
// of BUCKET_SPAN seqs (rows of span BUCKET_SPAN). Members at or past seq s = the bucket rows above
// s's bucket + the seq rows from s to the end of its bucket: a few hundred rows at most, however
// many members the channel has, where counting the members themselves grows with the channel.
// Each store changes the counts in the same unit as the marker move, and deletes rows that reach 0.
import type { Reach, ReachKey } from './store.ts';

/** Seqs per bucket: a page of messages spans one or two buckets, and a bucket holds few rows to add up. */
export const BUCKET_SPAN = 256;

/** A member's two markers. */
export interface Markers {
  read: number;
  delivered: number;
}

/** Members whose read / delivery marker lies in [seq, seq + span): a row of the counts, or a change to one. */
export interface MarkerCount {
  span: number;
  seq: number;
  read: number;
  delivered: number;
}

/** A member's markers before and after a change; null when not a member (before joining, after leaving). */
export interface MarkersMove {
  before: Markers | null;
  after: Markers | null;
}

/** Rows of one span whose seq lies in [from, to). */
export interface CountRange {
  span: number;
  from: number;
  to: number;
}

/** Beyond any seq (and still a JSON number, for stores that take ranges as JSON). */
const END = Number.MAX_SAFE_INTEGER;

const bucketOf = (seq: number) => seq - (seq % BUCKET_SPAN);

/** The changes these moves make to the counts, the same row's changes added together, rows left as they were left out. */
export function countChanges(moves: readonly MarkersMove[]): MarkerCount[] {
  const changes = new Map<string, MarkerCount>();
  const add = (span: number, seq: number, marker: keyof Markers, delta: number) => {
    const key = `${span}:${seq}`;
    let change = changes.get(key);
    if (!change) changes.set(key, (change = { span, seq, read: 0, delivered: 0 }));
    change[marker] += delta;
  };
  for (const { before, after } of moves) {
    for (const marker of ['read', 'delivered'] as const) {
      if (before) {
        add(1, before[marker], marker, -1);
        add(BUCKET_SPAN, bucketOf(before[marker]), marker, -1);
      }
      if (after) {
        add(1, after[marker], marker, 1);
        add(BUCKET_SPAN, bucketOf(after[marker]), marker, 1);
      }
    }
  }
  return [...changes.values()].filter((c) => c.read !== 0 || c.delivered !== 0);
}

/**
 * Per channel, the rows that answer these keys: the buckets above the lowest key's bucket, and for
 * each bucket holding a key, its seqs from that bucket's lowest key to the bucket's end.
 */
export function rangesFor(keys: readonly ReachKey[]): Map<string, CountRange[]> {
  const lowestByBucket = new Map<string, Map<number, number>>();
  for (const { channelId, seq } of keys) {
    let buckets = lowestByBucket.get(channelId);
    if (!buckets) lowestByBucket.set(channelId, (buckets = new Map()));
    const bucket = bucketOf(seq);
    buckets.set(bucket, Math.min(seq, buckets.get(bucket) ?? seq));
  }
  const ranges = new Map<string, CountRange[]>();
  for (const [channelId, buckets] of lowestByBucket) {
    const lowest = Math.min(...buckets.keys());
    ranges.set(channelId, [
      { span: BUCKET_SPAN, from: lowest + BUCKET_SPAN, to: END },
      ...[...buckets].map(([bucket, seq]) => ({ span: 1, from: seq, to: bucket + BUCKET_SPAN })),
    ]);
  }
  return ranges;
}

/** Members whose markers are at or past seq, from rows covering rangesFor a key at seq (rows of a key may repeat: they add up). */
function atOrPast(rows: readonly MarkerCount[], seq: number): Reach {
  const bucket = bucketOf(seq);
  const reach = { delivered: 0, read: 0 };
  for (const row of rows) {
    const counted = row.span === 1 ? row.seq >= seq && row.seq < bucket + BUCKET_SPAN : row.seq > bucket;
    if (counted) {
      reach.delivered += row.delivered;
      reach.read += row.read;
    }
  }
  return reach;
}

/**
 * Per key, the other members the message has reached: the counts of its channel (rows covering
 * rangesFor(keys)) less its author, when the author is a member whose marker has reached it.
 */
export function reachOfKeys(
  keys: readonly ReachKey[],
  rowsByChannel: ReadonlyMap<string, readonly MarkerCount[]>,
  authorMarkers: (channelId: string, authorId: string) => Markers | undefined,
): Reach[] {
  return keys.map(({ channelId, seq, authorId }) => {
    const reach = atOrPast(rowsByChannel.get(channelId) ?? [], seq);
    const author = authorMarkers(channelId, authorId);
    if (author && author.delivered >= seq) reach.delivered -= 1;
    if (author && author.read >= seq) reach.read -= 1;
    return reach;
  });
}
