// A member's read state of a channel (the badge: read marker and unread mentions), read for many
// users of one channel at once: a request's channel list batches it through its loader, and a
// message delivered to 50,000 members reads it for all of them in a few store calls.
import type { Channel, ChannelMember } from '../src/domain/types.ts';
import type { Store } from '../src/store/store.ts';

export interface ReadState {
  /** The user's membership (null when not a member: nothing is unread). */
  member: ChannelMember | null;
  /** Messages after the read marker that mention the user or the channel. */
  mentionCount: number;
}

/** Keys per store call, as the loaders batch them. */
export const STORE_BATCH_MAX = 1000;

/** Runs `read` over `keys` in slices a store call can take, keeping their order. */
export async function inSlices<K, V>(keys: readonly K[], read: (slice: readonly K[]) => Promise<V[]>): Promise<V[]> {
  if (keys.length <= STORE_BATCH_MAX) return read(keys);
  const slices: Promise<V[]>[] = [];
  for (let i = 0; i < keys.length; i += STORE_BATCH_MAX) slices.push(read(keys.slice(i, i + STORE_BATCH_MAX)));
  return (await Promise.all(slices)).flat();
}

export interface ReadStateKey {
  channel: Channel;
  userId: string;
}

/** The read state of each (channel, user) pair, in their order: two batched store reads in all. */
export async function readStatesOf(store: Store, keys: readonly ReadStateKey[]): Promise<ReadState[]> {
  const found = await inSlices(
    keys.map(({ channel, userId }) => ({ channelId: channel.id, userId })),
    (slice) => store.findChannelMembers(slice),
  );
  // By channel, then user: a message's fan-out has one channel and thousands of users, and a key
  // string per member made of both would be garbage the size of the fan-out.
  const members = new Map<string, Map<string, ChannelMember>>();
  for (const member of found) {
    let ofChannel = members.get(member.channelId);
    if (!ofChannel) members.set(member.channelId, (ofChannel = new Map()));
    ofChannel.set(member.userId, member);
  }
  const states: ReadState[] = keys.map(({ channel, userId }) => ({ member: members.get(channel.id)?.get(userId) ?? null, mentionCount: 0 }));
  // Mentions only count after the read marker: a member who has read everything has none.
  const behind = states.filter((state, i) => state.member !== null && state.member.lastReadSeq < keys[i]!.channel.lastSeq);
  const counts = await inSlices(
    behind.map(({ member }) => ({ channelId: member!.channelId, userId: member!.userId, afterSeq: member!.lastReadSeq })),
    (slice) => store.countMentions(slice),
  );
  behind.forEach((state, i) => (state.mentionCount = counts[i] ?? 0));
  return states;
}
