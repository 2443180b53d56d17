// Organizations and channels through the API, as a client app creates and browses them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AddChannelMemberDocument,
  ChannelMembersDocument,
  CreateChannelDocument,
  JoinChannelDocument,
  OpenDirectChannelDocument,
  OrganizationChannelsDocument,
  OrganizationMembersDocument,
  RemoveChannelMemberDocument,
} from '../../operations/generated/graphql.ts';
import { codes } from '../support/client.ts';
import { type TestServer, startServer } from '../support/server.ts';
import { channelOf, directChannel, organizationWith, send } from '../support/world.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => server?.stop());

describe('organizations', () => {
  it('creates #general with the creator, and every invited member who accepts joins it', async () => {
    const world = await organizationWith(server.url, ['ann', 'bob', 'cat', 'dan', 'eve']);
    const { ann, bob } = world.users;
    const org = await ann!.run(OrganizationChannelsDocument, { organizationId: world.orgId });
    expect(org.organization?.memberCount).toBe(5);
    expect(org.organization?.channels.edges.map((e) => [e.node.name, e.node.memberCount])).toEqual([['general', 5]]);
    // Each member sees #general in their own list.
    const bobs = await bob!.run(OrganizationChannelsDocument, { organizationId: world.orgId });
    expect(bobs.organization?.channels.edges[0]?.node.id).toBe(world.generalId);
    const members = await ann!.run(ChannelMembersDocument, { channelId: world.generalId, first: 10 });
    expect(members.channel?.members.edges.map((e) => e.node.name).sort()).toEqual(['ann', 'bob', 'cat', 'dan', 'eve']);
  });

  it('pages through members', async () => {
    const world = await organizationWith(server.url, ['ann', 'bob', 'cat']);
    const { ann } = world.users;
    const first = await ann!.run(OrganizationMembersDocument, { organizationId: world.orgId, first: 2 });
    expect(first.organization?.members.pageInfo.hasNextPage).toBe(true);
    const rest = await ann!.run(OrganizationMembersDocument, {
      organizationId: world.orgId,
      first: 2,
      after: first.organization?.members.pageInfo.endCursor,
    });
    const names = [...first.organization!.members.edges, ...rest.organization!.members.edges].map((e) => e.node.name);
    expect(names.sort()).toEqual(['ann', 'bob', 'cat']);
    expect(rest.organization?.members.pageInfo.hasNextPage).toBe(false);
  });
});

describe('channels', () => {
  it('creates a channel with members; its name is unique in the organization', async () => {
    const world = await organizationWith(server.url, ['ann', 'bob', 'cat']);
    const { ann, bob } = world.users;
    const created = await ann!.run(CreateChannelDocument, {
      input: { organizationId: world.orgId, name: 'design', memberIds: [bob!.id] },
    });
    expect(created.createChannel).toMatchObject({ name: 'design', kind: 'GROUP', memberCount: 2 });
    const taken = await bob!.request(CreateChannelDocument, { input: { organizationId: world.orgId, name: 'design' } });
    expect(taken.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', field: 'name' });
  });

  it.each([[''], ['Design'], ['has space'], ['x'.repeat(81)], ['émoji']])('refuses the channel name %j', async (name) => {
    const world = await organizationWith(server.url, ['ann']);
    const result = await world.users.ann!.request(CreateChannelDocument, { input: { organizationId: world.orgId, name } });
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'name' });
    const list = await world.users.ann!.run(OrganizationChannelsDocument, { organizationId: world.orgId });
    expect(list.organization?.channels.edges).toHaveLength(1);
  });

  it('opens one DIRECT channel per pair, the same from both sides, named after the other member', async () => {
    const world = await organizationWith(server.url, ['ann', 'bob']);
    const { ann, bob } = world.users;
    const fromAnn = await ann!.run(OpenDirectChannelDocument, { input: { organizationId: world.orgId, userId: bob!.id } });
    const fromBob = await bob!.run(OpenDirectChannelDocument, { input: { organizationId: world.orgId, userId: ann!.id } });
    expect(fromBob.openDirectChannel.id).toBe(fromAnn.openDirectChannel.id);
    expect(fromAnn.openDirectChannel).toMatchObject({ kind: 'DIRECT', name: 'bob', memberCount: 2 });
    expect(fromBob.openDirectChannel.name).toBe('ann');
    const self = await ann!.request(OpenDirectChannelDocument, { input: { organizationId: world.orgId, userId: ann!.id } });
    expect(self.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'userId' });
  });

  it('lists the viewer\'s channels most recently active first', async () => {
    const world = await organizationWith(server.url, ['ann', 'bob']);
    const { ann, bob } = world.users;
    const quiet = await channelOf(world, ann!, 'quiet', []);
    const busy = await channelOf(world, ann!, 'busy', [bob!]);
    const dm = await directChannel(world, ann!, bob!);
    await send(bob!, busy, 'wakes busy up');
    const list = await ann!.run(OrganizationChannelsDocument, { organizationId: world.orgId });
    expect(list.organization?.channels.edges.map((e) => e.node.id)).toEqual([busy, dm, quiet, world.generalId]);
    const page = await ann!.run(OrganizationChannelsDocument, { organizationId: world.orgId, first: 2 });
    const next = await ann!.run(OrganizationChannelsDocument, {
      organizationId: world.orgId,
      first: 2,
      after: page.organization?.channels.pageInfo.endCursor,
    });
    expect(next.organization?.channels.edges.map((e) => e.node.id)).toEqual([quiet, world.generalId]);
  });

  it('lets members join, add and remove others; #general and DIRECT channels keep their members', async () => {
    const world = await organizationWith(server.url, ['ann', 'bob', 'cat']);
    const { ann, bob, cat } = world.users;
    const design = await channelOf(world, ann!, 'design', []);
    const joined = await bob!.run(JoinChannelDocument, { input: { channelId: design } });
    expect(joined.joinChannel.memberCount).toBe(2);
    const added = await bob!.run(AddChannelMemberDocument, { input: { channelId: design, userId: cat!.id } });
    expect(added.addChannelMember.memberCount).toBe(3);
    const removed = await ann!.run(RemoveChannelMemberDocument, { input: { channelId: design, userId: cat!.id } });
    expect(removed.removeChannelMember.memberCount).toBe(2);
    const leaveGeneral = await ann!.request(RemoveChannelMemberDocument, { input: { channelId: world.generalId, userId: ann!.id } });
    expect(codes(leaveGeneral)).toEqual(['FORBIDDEN']);
    const dm = await directChannel(world, ann!, bob!);
    const joinDm = await cat!.request(JoinChannelDocument, { input: { channelId: dm } });
    expect(codes(joinDm)).toEqual(['NOT_FOUND']);
    const addToDm = await ann!.request(AddChannelMemberDocument, { input: { channelId: dm, userId: cat!.id } });
    expect(addToDm.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'channelId' });
  });
});
