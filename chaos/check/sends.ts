// Sends against the store: each acknowledged send is stored exactly once (by clientMessageId) as
// acknowledged; one never acknowledged is stored once or not at all; nothing is stored that no
// client sent; each channel's seqs are 1..n with no gap and no duplicate.
import { toGlobalId } from '../../src/domain/ids.ts';
import type { Message } from '../../src/domain/types.ts';
import type { SendRecord } from '../lib/history.ts';
import type { World } from '../lib/world.ts';
import type { FinalState } from './state.ts';
import { type InvariantResult, Tally, ranges } from './tally.ts';

const keyOf = (channel: number, author: string, clientMessageId: string | null) => `${channel}|${author}|${clientMessageId}`;

export function checkSends(sends: SendRecord[], state: FinalState, world: World): InvariantResult[] {
  const stored = new Map<string, Message[]>();
  for (const channel of world.channels) {
    for (const message of state.get(channel.index)!.messages) {
      const key = keyOf(channel.index, message.authorId, message.clientMessageId);
      stored.set(key, [...(stored.get(key) ?? []), message]);
    }
  }

  const acked = new Tally('acknowledged sends stored exactly once');
  const unacked = new Tally('unacknowledged sends stored at most once');
  for (const send of sends) {
    const copies = stored.get(keyOf(send.channel, send.author, send.clientMessageId)) ?? [];
    if (send.ackAt !== null) {
      const [copy] = copies;
      acked.check(
        copies.length === 1 && copy!.seq === send.seq && toGlobalId('Message', copy!.id) === send.id && copy!.text === send.text,
        () => `${send.clientMessageId} in c${send.channel}: acknowledged as seq ${send.seq}, stored ${copies.length}× (seqs ${copies.map((c) => c.seq).join(', ') || 'none'})`,
      );
    } else {
      unacked.check(copies.length <= 1, () => `${send.clientMessageId} in c${send.channel}: never acknowledged, stored ${copies.length}× (seqs ${copies.map((c) => c.seq).join(', ')})`);
    }
  }

  const sent = new Set(sends.map((s) => keyOf(s.channel, s.author, s.clientMessageId)));
  const phantoms = new Tally('every stored message was sent by a client');
  const seqs = new Tally('channel seqs are 1..n, no gap, no duplicate');
  for (const channel of [world.general, ...world.channels]) {
    const { messages, lastSeq } = state.get(channel.index)!;
    for (const message of messages) {
      phantoms.check(sent.has(keyOf(channel.index, message.authorId, message.clientMessageId)), () => `c${channel.index} seq ${message.seq} (${message.clientMessageId}) was sent by nobody`);
    }
    const numbers = messages.map((m) => m.seq);
    const present = new Set(numbers);
    const missing: number[] = [];
    for (let seq = 1; seq <= lastSeq; seq++) if (!present.has(seq)) missing.push(seq);
    const once = new Set<number>();
    const duplicates = numbers.filter((seq) => once.size === once.add(seq).size);
    const beyond = numbers.filter((seq) => seq > lastSeq);
    seqs.check(
      missing.length === 0 && duplicates.length === 0 && beyond.length === 0,
      () => `${channel.name}: lastSeq ${lastSeq}, ${messages.length} stored; missing ${ranges(missing) || '-'}, duplicated ${ranges(duplicates) || '-'}, past lastSeq ${ranges(beyond) || '-'}`,
    );
  }
  return [acked.result(), unacked.result(), phantoms.result(), seqs.result()];
}
