// The store contract, read and delivery markers: they only move forward, and the counts behind
// read receipts stay exact as members read, acknowledge, join and leave.
import { describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/store.ts';
import { draft, groupChannel, organization, tick, user } from './fixtures.ts';
import { expectExactReceipts, liveChannels } from './receipts.ts';

/** Runs inside storeContract's describe; store() is the store under test. */
export function markerContract(store: () => Store) {
  describe('markers and counts', () => {
    async function room() {
      const ann = await user(store(), 'ann');
      const bob = await user(store(), 'bob');
      const cat = await user(store(), 'cat');
      const { org } = await organization(store(), ann.id);
      const channel = groupChannel(org.id, 'room');
      await store().createChannel(channel, [ann.id, bob.id, cat.id]);
      return { ann, bob, cat, channel };
    }

    it('moves read markers only forward, taking the delivery marker along', async () => {
      const { ann, bob, channel } = await room();
      for (let i = 0; i < 5; i++) await store().appendMessage(draft(channel.id, ann.id, `m${i}`));
      const move = await store().advanceReadMarker(channel.id, bob.id, 3);
      expect(move?.before).toMatchObject({ lastReadSeq: 0, lastDeliveredSeq: 0 });
      expect(move?.after).toMatchObject({ lastReadSeq: 3, lastDeliveredSeq: 3 });
      const back = await store().advanceReadMarker(channel.id, bob.id, 1);
      expect(back?.after).toMatchObject({ lastReadSeq: 3, lastDeliveredSeq: 3 });
      const delivered = await store().advanceDeliveryMarker(channel.id, bob.id, 5);
      expect(delivered?.after).toMatchObject({ lastReadSeq: 3, lastDeliveredSeq: 5 });
      expect((await store().advanceDeliveryMarker(channel.id, bob.id, 4))?.after.lastDeliveredSeq).toBe(5);
      expect(await store().advanceReadMarker(channel.id, 'not-a-member', 5)).toBeNull();
    });

    it('counts unread mentions of a member from the log, direct and @channel, not the member\'s own', async () => {
      const { ann, bob, cat, channel } = await room();
      await store().appendMessage(draft(channel.id, ann.id, '@bob one', { mentions: [bob.id] })); // 1
      await store().appendMessage(draft(channel.id, ann.id, 'plain')); // 2
      await store().appendMessage(draft(channel.id, cat.id, '@channel', { mentionsChannel: true })); // 3
      await store().appendMessage(draft(channel.id, ann.id, '@bob @cat', { mentions: [bob.id, cat.id] })); // 4
      await store().appendMessage(draft(channel.id, ann.id, '@channel @bob', { mentions: [bob.id], mentionsChannel: true })); // 5
      const counts = await store().countMentions([
        { channelId: channel.id, userId: bob.id, afterSeq: 0 },
        { channelId: channel.id, userId: bob.id, afterSeq: 3 },
        { channelId: channel.id, userId: cat.id, afterSeq: 0 },
        { channelId: channel.id, userId: ann.id, afterSeq: 0 },
        { channelId: 'no-channel', userId: bob.id, afterSeq: 0 },
      ]);
      // bob: 1, 3, 4, 5 (5 once); after 3: 4, 5. cat: 4, 5 (3 is cat's own). ann: 3.
      expect(counts).toEqual([4, 2, 2, 1, 0]);
    });

    it('counts the other members a message has reached', async () => {
      const { ann, bob, cat, channel } = await room();
      for (let i = 0; i < 3; i++) await store().appendMessage(draft(channel.id, ann.id, `m${i}`));
      await store().advanceDeliveryMarker(channel.id, bob.id, 3);
      await store().advanceReadMarker(channel.id, bob.id, 2);
      await store().advanceDeliveryMarker(channel.id, cat.id, 1);
      const reach = await store().countReach([
        { channelId: channel.id, seq: 1, authorId: ann.id },
        { channelId: channel.id, seq: 2, authorId: ann.id },
        { channelId: channel.id, seq: 3, authorId: ann.id },
        { channelId: channel.id, seq: 3, authorId: bob.id },
      ]);
      expect(reach).toEqual([
        { delivered: 2, read: 1 },
        { delivered: 1, read: 1 },
        { delivered: 1, read: 0 },
        { delivered: 1, read: 1 },
      ]);
    });

    it('counts a member who joins late from the newest message, and one who left no more', async () => {
      const { ann, bob, cat, channel } = await room();
      const dan = await user(store(), 'dan');
      for (let i = 0; i < 3; i++) await store().appendMessage(draft(channel.id, ann.id, `m${i}`));
      await store().advanceReadMarker(channel.id, bob.id, 1);
      await store().addChannelMember(channel.id, dan.id, tick());
      const keys = [1, 2, 3].map((seq) => ({ channelId: channel.id, seq, authorId: ann.id }));
      expect(await store().countReach(keys)).toEqual([{ delivered: 2, read: 2 }, { delivered: 1, read: 1 }, { delivered: 1, read: 1 }]);
      await store().removeChannelMember(channel.id, dan.id);
      await store().removeChannelMember(channel.id, bob.id);
      await store().advanceDeliveryMarker(channel.id, cat.id, 3);
      expect(await store().countReach(keys)).toEqual([1, 2, 3].map(() => ({ delivered: 1, read: 0 })));
    });

    it('keeps receipts exact for every message through sends, reads, acks, joins and leaves', async () => {
      // Enough sends for one channel's seqs to pass BUCKET_SPAN (256), so buckets add up too.
      await liveChannels(store(), 900, (channelIds) => expectExactReceipts(store(), channelIds), 225);
    });
  });}
