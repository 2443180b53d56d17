// memberCounts: how many members a channel or an organization has, kept apart from the channel's
// own document. Every send $incs the channel's lastSeq in its transaction; a join that $inc'ed a
// count on that same document would write-conflict with the sends of a busy channel (and the
// loser retries after a pause). So the count lives here, spread over the 8 stripes of the marker
// counts per channel or organization ({of, stripe}), a member always changing the stripe its userId hashes to: 50,000
// people joining #general at once rarely write the same document, and never the channel's.
// A channel's or an organization's memberCount is the memberCount stored on its own document
// (frozen there by the deployments that counted on it, 0 for the newer ones) plus its stripes here.
import { type CollectionSpec, type Session, type StoreCollection, within } from './database.ts';
import { stripeOf } from './marker-counts.ts';

export const MEMBER_COUNTS = 'memberCounts';

/** Part of the member count of `of` (a channel's or an organization's id: their prefixes differ). */
export interface MemberCountDoc {
  of: string;
  stripe: number;
  count: number;
}

export type MemberCounts = StoreCollection<MemberCountDoc>;

export const memberCountsCollection: CollectionSpec = {
  name: MEMBER_COUNTS,
  // {of, stripe} is unique (concurrent first joins race on the upsert) and serves every query.
  indexes: [{ key: { of: 1, stripe: 1 }, name: 'of_1_stripe_1', unique: true }],
  shardKey: { of: 'hashed' },
};

/** Adds delta (±1) members to `of`, on the stripe of the member who joins or leaves ({of, stripe}). */
export async function addMember(counts: MemberCounts, of: string, userId: string, delta: number, session: Session): Promise<void> {
  await counts.updateOne({ of, stripe: stripeOf(userId) }, { $inc: { count: delta } }, { upsert: true, ...within(session) });
}

/** Counts the first members of `of`, one write per stripe they hash to. */
export async function addMembers(counts: MemberCounts, of: string, userIds: readonly string[], session: Session): Promise<void> {
  const joined = new Map<number, number>();
  for (const userId of userIds) joined.set(stripeOf(userId), (joined.get(stripeOf(userId)) ?? 0) + 1);
  for (const [stripe, count] of joined) {
    await counts.updateOne({ of, stripe }, { $inc: { count } }, { upsert: true, ...within(session) });
  }
}

/** The counted members of each of these ids, 0 for none ({of, stripe}: at most STRIPES documents each). */
export async function countsOf(counts: MemberCounts, ids: readonly string[]): Promise<Map<string, number>> {
  const totals = new Map<string, number>();
  if (ids.length === 0) return totals;
  const docs = await counts.find({ of: { $in: [...ids] } }, { projection: { _id: 0, of: 1, count: 1 } }).toArray();
  for (const { of, count } of docs) totals.set(of, (totals.get(of) ?? 0) + count);
  return totals;
}

/** Records of these stored documents, each with the members counted for its _id. */
export async function counted<Doc extends { _id: string }, T>(
  counts: MemberCounts,
  docs: readonly Doc[],
  toRecord: (doc: Doc, counted: number) => T,
): Promise<T[]> {
  const totals = await countsOf(counts, docs.map((d) => d._id));
  return docs.map((d) => toRecord(d, totals.get(d._id) ?? 0));
}
