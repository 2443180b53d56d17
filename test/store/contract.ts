// The store contract: the only spec of the Store port. Every implementation runs through it
// (storeContract('sqlite', ...), storeContract('mongodb (server)', ...), ...).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/store.ts';
import { StoreError } from '../../src/store/store.ts';
import { invitationContract } from './contract-invitations.ts';
import { markerContract } from './contract-markers.ts';
import { messageContract } from './contract-messages.ts';
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

    messageContract(() => store);

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
