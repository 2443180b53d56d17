// The store contract, the reads a message delivered to a whole channel makes: every member's
// membership and unread mentions at once, each as exact as when read alone.
import { describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/store.ts';
import { draft, groupChannel, organization, user } from './fixtures.ts';

/** Runs inside storeContract's describe; store() is the store under test. */
export function readStateContract(store: () => Store) {
  describe('read states of a whole channel', () => {
    it('finds many members and counts their mentions at once exactly as one by one', async () => {
      const members = [];
      for (let i = 0; i < 24; i++) members.push(await user(store(), `m${i}`));
      const ids = members.map((m) => m.id);
      const { org } = await organization(store(), ids[0]!);
      const channel = groupChannel(org.id, 'crowd');
      await store().createChannel(channel, ids);
      // Direct mentions, @channel from several authors (one's own @channel never counts), plain text.
      for (let seq = 1; seq <= 30; seq++) {
        const author = ids[seq % 5]!;
        const mentions = seq % 3 === 0 ? [ids[seq % 24]!, ids[(seq * 7) % 24]!] : [];
        await store().appendMessage(draft(channel.id, author, `message ${seq}`, { mentions, mentionsChannel: seq % 4 === 0 }));
      }
      for (let i = 0; i < 24; i++) await store().advanceReadMarker(channel.id, ids[i]!, (i * 5) % 31);

      const keys = ids.map((userId) => ({ channelId: channel.id, userId }));
      const together = await store().findChannelMembers([...keys, { channelId: channel.id, userId: 'not-a-member' }]);
      const alone = (await Promise.all(keys.map((key) => store().findChannelMembers([key])))).flat();
      const byUser = <T extends { userId: string }>(rows: T[]) => [...rows].sort((a, b) => a.userId.localeCompare(b.userId));
      expect(byUser(together)).toEqual(byUser(alone));
      expect(together).toHaveLength(24);

      // From each read marker, and from the start (where one's own @channel messages come after it).
      const mentionKeys = together.flatMap((member) => [
        { channelId: channel.id, userId: member.userId, afterSeq: member.lastReadSeq },
        { channelId: channel.id, userId: member.userId, afterSeq: 0 },
      ]);
      const counted = await store().countMentions([...mentionKeys, { channelId: 'no-channel', userId: ids[0]!, afterSeq: 0 }]);
      const oneByOne = [];
      for (const key of mentionKeys) oneByOne.push(...(await store().countMentions([key])));
      expect(counted).toEqual([...oneByOne, 0]);
      expect(counted.some((count) => count > 0)).toBe(true);
    });
  });
}
