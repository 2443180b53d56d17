// Every kind of write has its allowance per user: past it, RATE_LIMITED with when to retry, and
// nothing is stored. Each user has allowances of their own.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AddChannelMemberDocument,
  AppOpenDocument,
  ChannelMembersDocument,
  CreateChannelDocument,
  CreateOrganizationDocument,
  InviteToOrganizationDocument,
  JoinChannelDocument,
  MarkChannelReadDocument,
  MyInvitationsDocument,
  OpenDirectChannelDocument,
  OrganizationChannelsDocument,
  RemoveChannelMemberDocument,
} from '../../operations/generated/graphql.ts';
import { type GraphQLResponse, Subscription, wsClient } from '../support/client.ts';
import { type TestServer, startServer } from '../support/server.ts';
import { channelOf, organizationWith, send, signInUsers } from '../support/world.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startServer({
    ORGANIZATION_RATE_LIMIT: '2',
    CHANNEL_RATE_LIMIT: '3',
    INVITATION_RATE_LIMIT: '4',
    MEMBERSHIP_RATE_LIMIT: '3',
    MARKER_RATE_LIMIT: '3',
  });
});
afterAll(async () => server?.stop());

/** The refusal of a write over its allowance, saying what was too many and when to retry (within the window). */
function expectRateLimited(result: GraphQLResponse<unknown>, what: RegExp, windowSeconds: number) {
  expect(result.data ?? null).toBeNull();
  expect(result.errors).toHaveLength(1);
  const [error] = result.errors!;
  expect(error?.extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: expect.any(Number) });
  expect(error?.extensions?.retryAfterSeconds).toBeGreaterThan(0);
  expect(error?.extensions?.retryAfterSeconds).toBeLessThanOrEqual(windowSeconds);
  expect(error?.message).toMatch(what);
}

describe('rate limits on writes', () => {
  it('new organizations: the third within the hour is refused and not created', async () => {
    const { ann, bob } = await signInUsers(server.url, ['ann', 'bob']);
    for (const name of ['One', 'Two']) await ann!.run(CreateOrganizationDocument, { input: { name } });
    expectRateLimited(await ann!.request(CreateOrganizationDocument, { input: { name: 'Three' } }), /organizations/, 3600);
    const { me } = await ann!.run(AppOpenDocument, {});
    expect(me.organizations.edges.map((e) => e.node.name).sort()).toEqual(['One', 'Two']);
    await bob!.run(CreateOrganizationDocument, { input: { name: 'Bob Co' } });
  });

  it('new channels, group or direct: past the allowance nothing is created; opening an existing DM still works', async () => {
    const world = await organizationWith(server.url, ['ann', 'bob', 'cat']);
    const { ann, bob, cat } = world.users;
    await channelOf(world, ann!, 'one', []);
    await channelOf(world, ann!, 'two', []);
    const dm = await ann!.run(OpenDirectChannelDocument, { input: { organizationId: world.orgId, userId: bob!.id } });
    expectRateLimited(await ann!.request(CreateChannelDocument, { input: { organizationId: world.orgId, name: 'four' } }), /channels/, 3600);
    expectRateLimited(await ann!.request(OpenDirectChannelDocument, { input: { organizationId: world.orgId, userId: cat!.id } }), /channels/, 3600);
    const again = await ann!.run(OpenDirectChannelDocument, { input: { organizationId: world.orgId, userId: bob!.id } });
    expect(again.openDirectChannel.id).toBe(dm.openDirectChannel.id);
    const list = await ann!.run(OrganizationChannelsDocument, { organizationId: world.orgId });
    expect(list.organization?.channels.edges.map((e) => e.node.name).sort()).toEqual(['bob', 'general', 'one', 'two']);
    await channelOf(world, bob!, 'bobs', []);
  });

  it('invitations: past the allowance the invitee is not invited', async () => {
    const world = await organizationWith(server.url, ['ann', 'bob']); // ann has invited once
    const { ann } = world.users;
    const others = await signInUsers(server.url, ['cat', 'dan', 'eve', 'fay']);
    for (const name of ['cat', 'dan', 'eve']) {
      await ann!.run(InviteToOrganizationDocument, { input: { organizationId: world.orgId, userId: others[name]!.id } });
    }
    const refused = await ann!.request(InviteToOrganizationDocument, { input: { organizationId: world.orgId, userId: others.fay!.id } });
    expectRateLimited(refused, /invitations/, 3600);
    expect((await others.fay!.run(MyInvitationsDocument)).me.invitations).toEqual([]);
    expect((await others.cat!.run(MyInvitationsDocument)).me.invitations).toHaveLength(1);
  });

  it('membership changes (join, add, remove): past the allowance the members stay as they were', async () => {
    const world = await organizationWith(server.url, ['ann', 'bob', 'cat', 'dan']);
    const { ann, bob, cat, dan } = world.users;
    const design = await channelOf(world, bob!, 'design', [cat!, dan!]);
    await ann!.run(JoinChannelDocument, { input: { channelId: design } });
    await ann!.run(RemoveChannelMemberDocument, { input: { channelId: design, userId: cat!.id } });
    await ann!.run(RemoveChannelMemberDocument, { input: { channelId: design, userId: dan!.id } });
    expectRateLimited(await ann!.request(AddChannelMemberDocument, { input: { channelId: design, userId: cat!.id } }), /membership/, 60);
    expectRateLimited(await ann!.request(RemoveChannelMemberDocument, { input: { channelId: design, userId: bob!.id } }), /membership/, 60);
    const members = await bob!.run(ChannelMembersDocument, { channelId: design, first: 10 });
    expect(members.channel?.members.edges.map((e) => e.node.name).sort()).toEqual(['ann', 'bob']);
  });

  it('read and delivery markers, over the WebSocket too: past the allowance the marker does not move', async () => {
    const world = await organizationWith(server.url, ['ann', 'bob']);
    const { ann, bob } = world.users;
    for (let i = 1; i <= 4; i++) await send(ann!, world.generalId, `m${i}`);
    for (const throughSeq of [1, 2, 3]) await bob!.run(MarkChannelReadDocument, { input: { channelId: world.generalId, throughSeq } });
    const client = wsClient(server.wsUrl, bob!.token, 'phone');
    const overSocket = new Subscription(client, MarkChannelReadDocument, { input: { channelId: world.generalId, throughSeq: 4 } });
    await overSocket.settled();
    expect(JSON.stringify(overSocket.errors)).toMatch(/RATE_LIMITED.*retryAfterSeconds|retryAfterSeconds.*RATE_LIMITED/);
    expect(overSocket.events).toEqual([]);
    await client.dispose();
    expectRateLimited(await bob!.request(MarkChannelReadDocument, { input: { channelId: world.generalId } }), /marker/, 10);
    const list = await bob!.run(OrganizationChannelsDocument, { organizationId: world.orgId });
    expect(list.organization?.channels.edges[0]?.node).toMatchObject({ lastReadSeq: 3, unreadCount: 1 });
  });
});
