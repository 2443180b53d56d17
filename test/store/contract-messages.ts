// The store contract, messages: numbered in the order stored, once per clientMessageId, paged by
// seq, kept as sent; appends arriving together each stored or refused on their own.
import { describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/store.ts';
import { draft, groupChannel, organization, user } from './fixtures.ts';

/** Runs inside storeContract's describe; store() is the store under test. */
export function messageContract(store: () => Store) {
  describe('messages', () => {
    async function channelWith(...names: string[]) {
      const users = [];
      for (const n of names) users.push(await user(store(), n));
      const { org } = await organization(store(), users[0]!.id);
      const channel = groupChannel(org.id, 'talk');
      await store().createChannel(channel, users.map((u) => u.id));
      return { channel, users };
    }

    it('numbers messages 1, 2, 3 in the order stored and moves the channel\'s activity', async () => {
      const { channel, users } = await channelWith('ann');
      const results = [];
      for (const text of ['one', 'two', 'three']) results.push(await store().appendMessage(draft(channel.id, users[0]!.id, text)));
      expect(results.map((r) => [r.message.seq, r.message.text, r.created])).toEqual([
        [1, 'one', true],
        [2, 'two', true],
        [3, 'three', true],
      ]);
      const [stored] = await store().findChannelsByIds([channel.id]);
      expect(stored?.lastSeq).toBe(3);
      expect(stored?.lastActiveAt).toEqual(results[2]!.message.sentAt);
      expect(await store().findMessagesByIds([results[1]!.message.id])).toEqual([results[1]!.message]);
    });

    it('gives concurrent appends distinct consecutive seqs', async () => {
      const { channel, users } = await channelWith('ann', 'bob');
      const sends = Array.from({ length: 20 }, (_, i) => store().appendMessage(draft(channel.id, users[i % 2]!.id, `m${i}`)));
      const seqs = (await Promise.all(sends)).map((r) => r.message.seq).sort((a, b) => a - b);
      expect(seqs).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    });

    it('stores or refuses each of the appends arriving together on its own', async () => {
      const { channel, users } = await channelWith('ann');
      const [first, refused, second] = await Promise.allSettled([
        store().appendMessage(draft(channel.id, users[0]!.id, 'first')),
        store().appendMessage(draft('no-such-channel', users[0]!.id, 'lost')),
        store().appendMessage(draft(channel.id, users[0]!.id, 'second')),
      ] as const);
      expect(refused.status).toBe('rejected');
      const seqOf = (settled: PromiseSettledResult<{ message: { seq: number; text: string } }>) =>
        settled.status === 'fulfilled' ? [settled.value.message.seq, settled.value.message.text] : settled.reason;
      expect([seqOf(first), seqOf(second)]).toEqual([
        [1, 'first'],
        [2, 'second'],
      ]);
      const stored = await store().findMessagesByChannel(channel.id, { limit: 10 });
      expect(stored.map((m) => m.text)).toEqual(['first', 'second']);
    });

    it('stores a message once per clientMessageId and author', async () => {
      const { channel, users } = await channelWith('ann', 'bob');
      const [ann, bob] = users as [typeof users[0], typeof users[0]];
      const first = await store().appendMessage(draft(channel.id, ann.id, 'hello', { clientMessageId: 'k1' }));
      const retry = await store().appendMessage(draft(channel.id, ann.id, 'hello again', { clientMessageId: 'k1' }));
      expect(retry).toEqual({ message: first.message, created: false });
      const bobs = await store().appendMessage(draft(channel.id, bob.id, 'same key, other author', { clientMessageId: 'k1' }));
      expect(bobs.created).toBe(true);
      const retries = await Promise.all(
        Array.from({ length: 5 }, () => store().appendMessage(draft(channel.id, ann.id, 'race', { clientMessageId: 'k2' }))),
      );
      expect(new Set(retries.map((r) => r.message.id)).size).toBe(1);
      expect(retries.filter((r) => r.created)).toHaveLength(1);
      expect((await store().findChannelsByIds([channel.id]))[0]?.lastSeq).toBe(3);
    });

    it('moves the author\'s read and delivery markers to the message, not the others\'', async () => {
      const { channel, users } = await channelWith('ann', 'bob');
      await store().appendMessage(draft(channel.id, users[0]!.id, 'hi'));
      const members = await store().findChannelMembers(users.map((u) => ({ channelId: channel.id, userId: u.id })));
      const marks = Object.fromEntries(members.map((m) => [m.userId, [m.lastReadSeq, m.lastDeliveredSeq]]));
      expect(marks).toEqual({ [users[0]!.id]: [1, 1], [users[1]!.id]: [0, 0] });
    });

    it('pages a channel\'s messages forwards and backwards by seq', async () => {
      const { channel, users } = await channelWith('ann');
      for (let i = 1; i <= 10; i++) await store().appendMessage(draft(channel.id, users[0]!.id, `m${i}`));
      const seqs = (ms: { seq: number }[]) => ms.map((m) => m.seq);
      expect(seqs(await store().findMessagesByChannel(channel.id, { limit: 3 }))).toEqual([1, 2, 3]);
      expect(seqs(await store().findMessagesByChannel(channel.id, { afterSeq: 8, limit: 5 }))).toEqual([9, 10]);
      expect(seqs(await store().findMessagesByChannel(channel.id, { limit: 3, newestFirst: true }))).toEqual([10, 9, 8]);
      expect(seqs(await store().findMessagesByChannel(channel.id, { beforeSeq: 4, limit: 5, newestFirst: true }))).toEqual([3, 2, 1]);
      expect(seqs(await store().findMessagesByChannel(channel.id, { afterSeq: 3, beforeSeq: 6, limit: 10 }))).toEqual([4, 5]);
      const bySeq = await store().findMessagesBySeq([{ channelId: channel.id, seq: 7 }, { channelId: channel.id, seq: 99 }]);
      expect(seqs(bySeq)).toEqual([7]);
      expect(bySeq[0]?.text).toBe('m7');
    });

    it('keeps text, mentions, flags and times as sent', async () => {
      const { channel, users } = await channelWith('ann', 'bob');
      const sent = await store().appendMessage(
        draft(channel.id, users[0]!.id, 'héllo 👋 @bob', { mentions: [users[1]!.id], mentionsChannel: true, clientMessageId: 'c' }),
      );
      const [stored] = await store().findMessagesByIds([sent.message.id]);
      expect(stored).toEqual(sent.message);
      expect(stored?.sentAt).toBeInstanceOf(Date);
    });
  });
}
