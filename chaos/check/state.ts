// The final state, read from the store (through the Store port) once every server has stopped.
import type { Message } from '../../src/domain/types.ts';
import type { Store } from '../../src/store/store.ts';
import type { World } from '../lib/world.ts';

export interface ChannelState {
  lastSeq: number;
  /** Every stored message, by seq. */
  messages: Message[];
  /** userId → read marker. */
  markers: Map<string, number>;
}

export type FinalState = Map<number, ChannelState>;

const PAGE = 1000;

/** Messages, last seqs and read markers of the run's channels (index -1 is #general). */
export async function readFinalState(store: Store, world: World): Promise<FinalState> {
  const state: FinalState = new Map();
  for (const channel of [world.general, ...world.channels]) {
    const [stored] = await store.findChannelsByIds([channel.id]);
    const messages: Message[] = [];
    for (let after = 0; ; ) {
      const page = await store.findMessagesByChannel(channel.id, { afterSeq: after, limit: PAGE });
      messages.push(...page);
      if (page.length < PAGE) break;
      after = page.at(-1)!.seq;
    }
    const members = await store.findChannelMembers(channel.members.map((userId) => ({ channelId: channel.id, userId })));
    state.set(channel.index, {
      lastSeq: stored?.lastSeq ?? 0,
      messages,
      markers: new Map(members.map((m) => [m.userId, m.lastReadSeq])),
    });
  }
  return state;
}

/** The mention badge of a member, counted from the log: after the marker, not their own, naming them or the channel. */
export function mentionsFromLog(channel: ChannelState, userId: string): number {
  const marker = channel.markers.get(userId) ?? 0;
  return channel.messages.filter((m) => m.seq > marker && m.authorId !== userId && (m.mentionsChannel || m.mentions.includes(userId))).length;
}
