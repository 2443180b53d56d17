// The store contract: the only spec of the Store port. Every implementation runs through it
// (storeContract('sqlite', ...), storeContract('mongodb (server)', ...), ...).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/store.ts';
import { StoreError } from '../../src/store/store.ts';
import { invitationContract } from './contract-invitations.ts';
import { markerContract } from './contract-markers.ts';
import { readStateContract } from './contract-read-states.ts';
import { directChannel, draft, groupChannel, organization, tick, user } from './fixtures.ts';

export interface StoreUnderTest {
  store: Store;
  /** Drops what the run created and closes the store. */
  dispose(): Promise<void>;
}

const byId = <T extends { id: string }>(items: T[]) => [...items].sort((a, b) => a.id.localeCompare(b.id));

export function storeContract(name: string, open: () => Promise<StoreUnderTest>) {
  describe(`store contract: ${name}`, () => {
    let subject: StoreUnderTest;
    let store: Store;
    beforeAll(async () => {
      subject = await open();
      store = subject.store;
    });
    afterAll(async () => subject?.dispose());

    it('answers ping', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });

    describe('users', () => {
      it('provisions users on first sight and updates their profiles later, keeping lastActiveAt', async () => {
        await store.upsertUsers([
          { id: 'contract-ann', name: 'ann', displayName: null, email: null },
          { id: 'contract-bob', name: 'bob', displayName: null, email: null },
        ]);
        expect(byId(await store.findUsersByIds(['contract-ann', 'contract-bob']))).toEqual([
          { id: 'contract-ann', name: 'ann', displayName: null, email: null, lastActiveAt: null },
          { id: 'contract-bob', name: 'bob', displayName: null, email: null, lastActiveAt: null },
        ]);
        const at = tick();
        await store.setUserLastActiveAt('contract-ann', at);
        await store.upsertUsers([{ id: 'contract-ann', name: 'annie', displayName: 'Ann', email: 'a@x.io' }]);
        expect(await store.findUsersByIds(['contract-ann'])).toEqual([
          { id: 'contract-ann', name: 'annie', displayName: 'Ann', email: 'a@x.io', lastActiveAt: at },
        ]);
      });

      it('finds users by ids, leaving unknown ids out', async () => {
        const a = await user(store, 'a');
        const b = await user(store, 'b');
        const found = await store.findUsersByIds([b.id, 'nobody', a.id]);
        expect(byId(found)).toEqual(byId([a, b]));
      });

      it('finds members of a channel by name, case-insensitively, leaving out non-members and unknown names', async () => {
        const ann = await user(store, 'Ann');
        const bob = await user(store, 'bob');
        const otherBob = await user(store, 'BOB');
        const outsider = await user(store, 'cat');
        const zoe = await user(store, 'Zoë');
        const { org, general } = await organization(store, ann.id);
        for (const member of [bob, otherBob, outsider, zoe]) await store.addOrgMember(org.id, member.id, tick());
        const room = groupChannel(org.id, 'names');
        await store.createChannel(room, [ann.id, bob.id, otherBob.id, zoe.id]);

        const found = await store.findChannelMembersByNames(room.id, ['ann', 'Bob', 'cat', 'ZOË', 'nobody']);
        expect(byId(found)).toEqual(byId([ann, bob, otherBob, zoe]));
        expect(await store.findChannelMembersByNames(general.id, ['cat'])).toEqual([outsider]);
        expect(await store.findChannelMembersByNames(room.id, [])).toEqual([]);
      });

      it('finds a renamed member by the new name only', async () => {
        const ann = await user(store, 'ann');
        const { general } = await organization(store, ann.id);
        await store.upsertUsers([{ id: ann.id, name: 'Annabel', displayName: null, email: null }]);
        expect((await store.findChannelMembersByNames(general.id, ['annabel'])).map((u) => u.id)).toEqual([ann.id]);
        expect(await store.findChannelMembersByNames(general.id, ['ann'])).toEqual([]);
      });

      it('never moves lastActiveAt backwards', async () => {
        const a = await user(store, 'a');
        const later = tick();
        await store.setUserLastActiveAt(a.id, later);
        await store.setUserLastActiveAt(a.id, new Date(later.getTime() - 5000));
        const [found] = await store.findUsersByIds([a.id]);
        expect(found?.lastActiveAt).toEqual(later);
      });
    });

    describe('organizations', () => {
      it('creates the organization with #general and the creator in both', async () => {
        const ann = await user(store, 'ann');
        const { org, general } = await organization(store, ann.id, 'Acme');
        const [stored] = await store.findOrganizationsByIds([org.id]);
        expect(stored).toEqual({ ...org, memberCount: 1 });
        const [channel] = await store.findChannelsByIds([general.id]);
        expect(channel).toMatchObject({ id: general.id, orgId: org.id, kind: 'GROUP', name: 'general', lastSeq: 0, memberCount: 1 });
        expect(await store.findOrgMembers([{ orgId: org.id, userId: ann.id }])).toHaveLength(1);
        const [member] = await store.findChannelMembers([{ channelId: general.id, userId: ann.id }]);
        expect(member).toMatchObject({ lastReadSeq: 0, lastDeliveredSeq: 0 });
      });

      it('adds a member once, to the organization and to #general', async () => {
        const ann = await user(store, 'ann');
        const bob = await user(store, 'bob');
        const { org, general } = await organization(store, ann.id);
        expect(await store.addOrgMember(org.id, bob.id, tick())).toBe(true);
        expect(await store.addOrgMember(org.id, bob.id, tick())).toBe(false);
        const [stored] = await store.findOrganizationsByIds([org.id]);
        expect(stored?.memberCount).toBe(2);
        const [channel] = await store.findChannelsByIds([general.id]);
        expect(channel?.memberCount).toBe(2);
        expect(await store.findChannelMembers([{ channelId: general.id, userId: bob.id }])).toHaveLength(1);
      });

      it('finds memberships among pairs, and lists members and organizations in pages', async () => {
        const ann = await user(store, 'ann');
        const others = [await user(store, 'o1'), await user(store, 'o2'), await user(store, 'o3')];
        const { org } = await organization(store, ann.id);
        const { org: second } = await organization(store, ann.id, 'Second');
        for (const other of others) await store.addOrgMember(org.id, other.id, tick());
        const pairs = await store.findOrgMembers([
          { orgId: org.id, userId: others[0]!.id },
          { orgId: second.id, userId: others[0]!.id },
          { orgId: second.id, userId: ann.id },
        ]);
        expect(pairs.map((m) => `${m.orgId}/${m.userId}`).sort()).toEqual(
          [`${org.id}/${others[0]!.id}`, `${second.id}/${ann.id}`].sort(),
        );
        const ids = [ann, ...others].map((u) => u.id).sort();
        const page1 = await store.listOrgMembers(org.id, null, 2);
        const page2 = await store.listOrgMembers(org.id, page1[1]!.userId, 2);
        expect([...page1, ...page2].map((m) => m.userId)).toEqual(ids);
        const orgs = await store.listOrganizationsOfUser(ann.id, null, 10);
        expect(orgs.map((o) => o.id)).toEqual([org.id, second.id].sort());
        expect((await store.listOrganizationsOfUser(ann.id, orgs[0]!.id, 10)).map((o) => o.id)).toEqual([orgs[1]!.id]);
      });
    });

    invitationContract(() => store);
    readStateContract(() => store);
    markerContract(() => store);

    describe('channels', () => {
      it('creates a channel with members; a taken name is a duplicate', async () => {
        const ann = await user(store, 'ann');
        const bob = await user(store, 'bob');
        const { org } = await organization(store, ann.id);
        const channel = groupChannel(org.id, 'design');
        await store.createChannel(channel, [ann.id, bob.id, bob.id]);
        const [stored] = await store.findChannelsByIds([channel.id]);
        expect(stored).toEqual({ ...channel, memberCount: 2 });
        const error = await store.createChannel(groupChannel(org.id, 'design'), [ann.id]).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(StoreError);
        expect(error).toMatchObject({ kind: 'duplicate', key: 'channelName' });
        const { org: other } = await organization(store, ann.id);
        await expect(store.createChannel(groupChannel(other.id, 'design'), [ann.id])).resolves.toBeUndefined();
      });

      it('keeps one DIRECT channel per pair, found from either side', async () => {
        const ann = await user(store, 'ann');
        const bob = await user(store, 'bob');
        const { org } = await organization(store, ann.id);
        const dm = directChannel(org.id, ann.id, bob.id);
        await store.createChannel(dm, [ann.id, bob.id]);
        expect((await store.findDirectChannel(org.id, directChannel(org.id, bob.id, ann.id).directKey!))?.id).toBe(dm.id);
        const error = await store.createChannel(directChannel(org.id, bob.id, ann.id), [ann.id, bob.id]).catch((e: unknown) => e);
        expect(error).toMatchObject({ kind: 'duplicate', key: 'directKey' });
        expect(await store.findDirectChannel(org.id, 'no such key')).toBeNull();
      });

      it('lists a member\'s channels of one organization, most recently active first, in pages', async () => {
        const ann = await user(store, 'ann');
        const { org, general } = await organization(store, ann.id);
        const { org: other } = await organization(store, ann.id);
        const a = groupChannel(org.id, 'a');
        const b = groupChannel(org.id, 'b');
        const notMine = groupChannel(org.id, 'c');
        await store.createChannel(a, [ann.id]);
        await store.createChannel(b, [ann.id]);
        await store.createChannel(notMine, []);
        await store.createChannel(groupChannel(other.id, 'elsewhere'), [ann.id]);
        await store.appendMessage(draft(a.id, ann.id, 'wakes a up'));
        const all = await store.listChannelsOfMember(org.id, ann.id, null, 10);
        expect(all.map((c) => c.id)).toEqual([a.id, b.id, general.id]);
        const first = await store.listChannelsOfMember(org.id, ann.id, null, 1);
        const rest = await store.listChannelsOfMember(org.id, ann.id, first[0]!, 10);
        expect([...first, ...rest].map((c) => c.id)).toEqual([a.id, b.id, general.id]);
        const everywhere = await store.listChannelIdsOfUser(ann.id);
        expect(everywhere).toHaveLength(5);
      });

      it('adds and removes members once, counting them, with markers at the newest message', async () => {
        const ann = await user(store, 'ann');
        const bob = await user(store, 'bob');
        const { org } = await organization(store, ann.id);
        const channel = groupChannel(org.id, 'news');
        await store.createChannel(channel, [ann.id]);
        await store.appendMessage(draft(channel.id, ann.id, 'one'));
        await store.appendMessage(draft(channel.id, ann.id, 'two'));
        const joined = await store.addChannelMember(channel.id, bob.id, tick());
        expect(joined).toMatchObject({ channelId: channel.id, userId: bob.id, lastReadSeq: 2, lastDeliveredSeq: 2 });
        expect(await store.addChannelMember(channel.id, bob.id, tick())).toBeNull();
        expect((await store.findChannelsByIds([channel.id]))[0]?.memberCount).toBe(2);
        const listed = await store.listChannelMembers(channel.id, null, 10);
        expect(listed.map((m) => m.userId)).toEqual([ann.id, bob.id].sort());
        expect(await store.removeChannelMember(channel.id, bob.id)).toBe(true);
        expect(await store.removeChannelMember(channel.id, bob.id)).toBe(false);
        expect((await store.findChannelsByIds([channel.id]))[0]?.memberCount).toBe(1);
        expect(await store.findChannelMembers([{ channelId: channel.id, userId: bob.id }])).toEqual([]);
      });
    });

    describe('messages', () => {
      async function channelWith(...names: string[]) {
        const users = [];
        for (const n of names) users.push(await user(store, n));
        const { org } = await organization(store, users[0]!.id);
        const channel = groupChannel(org.id, 'talk');
        await store.createChannel(channel, users.map((u) => u.id));
        return { channel, users };
      }

      it('numbers messages 1, 2, 3 in the order stored and moves the channel\'s activity', async () => {
        const { channel, users } = await channelWith('ann');
        const results = [];
        for (const text of ['one', 'two', 'three']) results.push(await store.appendMessage(draft(channel.id, users[0]!.id, text)));
        expect(results.map((r) => [r.message.seq, r.message.text, r.created])).toEqual([
          [1, 'one', true],
          [2, 'two', true],
          [3, 'three', true],
        ]);
        const [stored] = await store.findChannelsByIds([channel.id]);
        expect(stored?.lastSeq).toBe(3);
        expect(stored?.lastActiveAt).toEqual(results[2]!.message.sentAt);
        expect(await store.findMessagesByIds([results[1]!.message.id])).toEqual([results[1]!.message]);
      });

      it('gives concurrent appends distinct consecutive seqs', async () => {
        const { channel, users } = await channelWith('ann', 'bob');
        const sends = Array.from({ length: 20 }, (_, i) => store.appendMessage(draft(channel.id, users[i % 2]!.id, `m${i}`)));
        const seqs = (await Promise.all(sends)).map((r) => r.message.seq).sort((a, b) => a - b);
        expect(seqs).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      });

      it('stores or refuses each of the appends arriving together on its own', async () => {
        const { channel, users } = await channelWith('ann');
        const [first, refused, second] = await Promise.allSettled([
          store.appendMessage(draft(channel.id, users[0]!.id, 'first')),
          store.appendMessage(draft('no-such-channel', users[0]!.id, 'lost')),
          store.appendMessage(draft(channel.id, users[0]!.id, 'second')),
        ] as const);
        expect(refused.status).toBe('rejected');
        const seqOf = (settled: PromiseSettledResult<{ message: { seq: number; text: string } }>) =>
          settled.status === 'fulfilled' ? [settled.value.message.seq, settled.value.message.text] : settled.reason;
        expect([seqOf(first), seqOf(second)]).toEqual([
          [1, 'first'],
          [2, 'second'],
        ]);
        const stored = await store.findMessagesByChannel(channel.id, { limit: 10 });
        expect(stored.map((m) => m.text)).toEqual(['first', 'second']);
      });

      it('stores a message once per clientMessageId and author', async () => {
        const { channel, users } = await channelWith('ann', 'bob');
        const [ann, bob] = users as [typeof users[0], typeof users[0]];
        const first = await store.appendMessage(draft(channel.id, ann.id, 'hello', { clientMessageId: 'k1' }));
        const retry = await store.appendMessage(draft(channel.id, ann.id, 'hello again', { clientMessageId: 'k1' }));
        expect(retry).toEqual({ message: first.message, created: false });
        const bobs = await store.appendMessage(draft(channel.id, bob.id, 'same key, other author', { clientMessageId: 'k1' }));
        expect(bobs.created).toBe(true);
        const retries = await Promise.all(
          Array.from({ length: 5 }, () => store.appendMessage(draft(channel.id, ann.id, 'race', { clientMessageId: 'k2' }))),
        );
        expect(new Set(retries.map((r) => r.message.id)).size).toBe(1);
        expect(retries.filter((r) => r.created)).toHaveLength(1);
        expect((await store.findChannelsByIds([channel.id]))[0]?.lastSeq).toBe(3);
      });

      it('moves the author\'s read and delivery markers to the message, not the others\'', async () => {
        const { channel, users } = await channelWith('ann', 'bob');
        await store.appendMessage(draft(channel.id, users[0]!.id, 'hi'));
        const members = await store.findChannelMembers(users.map((u) => ({ channelId: channel.id, userId: u.id })));
        const marks = Object.fromEntries(members.map((m) => [m.userId, [m.lastReadSeq, m.lastDeliveredSeq]]));
        expect(marks).toEqual({ [users[0]!.id]: [1, 1], [users[1]!.id]: [0, 0] });
      });

      it('pages a channel\'s messages forwards and backwards by seq', async () => {
        const { channel, users } = await channelWith('ann');
        for (let i = 1; i <= 10; i++) await store.appendMessage(draft(channel.id, users[0]!.id, `m${i}`));
        const seqs = (ms: { seq: number }[]) => ms.map((m) => m.seq);
        expect(seqs(await store.findMessagesByChannel(channel.id, { limit: 3 }))).toEqual([1, 2, 3]);
        expect(seqs(await store.findMessagesByChannel(channel.id, { afterSeq: 8, limit: 5 }))).toEqual([9, 10]);
        expect(seqs(await store.findMessagesByChannel(channel.id, { limit: 3, newestFirst: true }))).toEqual([10, 9, 8]);
        expect(seqs(await store.findMessagesByChannel(channel.id, { beforeSeq: 4, limit: 5, newestFirst: true }))).toEqual([3, 2, 1]);
        expect(seqs(await store.findMessagesByChannel(channel.id, { afterSeq: 3, beforeSeq: 6, limit: 10 }))).toEqual([4, 5]);
        const bySeq = await store.findMessagesBySeq([{ channelId: channel.id, seq: 7 }, { channelId: channel.id, seq: 99 }]);
        expect(seqs(bySeq)).toEqual([7]);
        expect(bySeq[0]?.text).toBe('m7');
      });

      it('keeps text, mentions, flags and times as sent', async () => {
        const { channel, users } = await channelWith('ann', 'bob');
        const sent = await store.appendMessage(
          draft(channel.id, users[0]!.id, 'héllo 👋 @bob', { mentions: [users[1]!.id], mentionsChannel: true, clientMessageId: 'c' }),
        );
        const [stored] = await store.findMessagesByIds([sent.message.id]);
        expect(stored).toEqual(sent.message);
        expect(stored?.sentAt).toBeInstanceOf(Date);
      });
    });


    describe('devices', () => {
      it('registers devices and refreshes when they were last seen', async () => {
        const ann = await user(store, 'ann');
        await store.upsertDevices([
          { userId: ann.id, deviceId: 'phone', lastSeenAt: tick() },
          { userId: ann.id, deviceId: 'laptop', lastSeenAt: tick() },
        ]);
        await expect(store.upsertDevices([{ userId: ann.id, deviceId: 'phone', lastSeenAt: tick() }])).resolves.toBeUndefined();
      });
    });
  });
}
