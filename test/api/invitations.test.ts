// Joining an organization by invitation, as the apps of the people involved do it over HTTP and
// the WebSocket: the invitee sees the invitation and decides, and only acceptance makes a member.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AcceptInvitationDocument,
  CreateOrganizationDocument,
  DeclineInvitationDocument,
  InviteToOrganizationDocument,
  MyInvitationsDocument,
  OrganizationChannelsDocument,
  OrganizationMembersDocument,
  RevokeInvitationDocument,
} from '../../operations/generated/graphql.ts';
import { Subscription, codes, wsClient } from '../support/client.ts';
import { type TestServer, startServer } from '../support/server.ts';
import { eventOn, openStream } from '../support/viewer-events.ts';
import { type Member, organizationWith, send, signInUsers } from '../support/world.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => server?.stop());

const invite = (by: Member, organizationId: string, whom: { id: string }) =>
  by.request(InviteToOrganizationDocument, { input: { organizationId, userId: whom.id } });
const accept = (by: Member, invitationId: string) => by.request(AcceptInvitationDocument, { input: { invitationId } });
const decline = (by: Member, invitationId: string) => by.request(DeclineInvitationDocument, { input: { invitationId } });
const revoke = (by: Member, invitationId: string) => by.request(RevokeInvitationDocument, { input: { invitationId } });
const pendingOf = async (user: Member) => (await user.run(MyInvitationsDocument)).me.invitations;
/** The viewerEvents stream of a user in no organization yet: their own one gives it something to carry first. */
async function newcomersStream(user: Member) {
  const home = await user.run(CreateOrganizationDocument, { input: { name: 'Home' } });
  const homeGeneral = home.createOrganization.channels.edges[0]!.node.id;
  return openStream(server.wsUrl, user.token, 'phone', () => send(user, homeGeneral, 'ping'));
}
const memberNames = async (by: Member, organizationId: string) =>
  (await by.run(OrganizationMembersDocument, { organizationId, first: 100 })).organization!.members.edges.map((e) => e.node.name).sort();

describe('an invitation', () => {
  it('reaches the invitee (me.invitations and viewerEvents); accepting over the WebSocket makes them a member, following #general at once', async () => {
    const world = await organizationWith(server.url, ['ann']);
    const { ann } = world.users;
    const { bob } = await signInUsers(server.url, ['bob']);
    const phone = await newcomersStream(bob!);

    const invited = (await invite(ann!, world.orgId, bob!)).data!.inviteToOrganization;
    expect(invited).toMatchObject({ status: 'PENDING', organization: { id: world.orgId, name: 'Acme' }, inviter: { id: ann!.id, name: 'ann' } });
    const heard = await eventOn(phone.stream, (e) => e.__typename === 'InvitationEvent');
    expect(heard).toMatchObject({ invitation: { id: invited.id, status: 'PENDING', organization: { name: 'Acme' } } });
    expect(await pendingOf(bob!)).toEqual([invited]);
    // Not a member yet: the organization is closed to him.
    expect(codes(await bob!.request(OrganizationChannelsDocument, { organizationId: world.orgId }))).toEqual(['NOT_FOUND']);

    const laptop = new Subscription<{ acceptInvitation: { id: string; status: string } }>(
      wsClient(server.wsUrl, bob!.token, 'laptop'),
      AcceptInvitationDocument,
      { input: { invitationId: invited.id } },
    );
    expect((await laptop.waitFor(1))[0]?.acceptInvitation).toMatchObject({ id: invited.id, status: 'ACCEPTED' });
    const joined = await eventOn(phone.stream, (e) => e.__typename === 'ChannelMembershipEvent' && e.channel.id === world.generalId);
    expect(joined).toMatchObject({ joined: true, channel: { name: 'general' } });
    await eventOn(phone.stream, (e) => e.__typename === 'InvitationEvent' && e.invitation.status === 'ACCEPTED');
    // The open stream carries #general's messages without reconnecting.
    const welcome = await send(ann!, world.generalId, 'welcome bob');
    await eventOn(phone.stream, (e) => e.__typename === 'MessageAddedEvent' && e.message.id === welcome.id);

    expect(await pendingOf(bob!)).toEqual([]);
    expect(await memberNames(ann!, world.orgId)).toEqual(['ann', 'bob']);
    const channels = await bob!.run(OrganizationChannelsDocument, { organizationId: world.orgId });
    expect(channels.organization).toMatchObject({ memberCount: 2, channels: { edges: [{ node: { id: world.generalId } }] } });
    await phone.client.dispose();
  });

  it('to a member is a CONFLICT; inviting again returns the same invitation, listed once', async () => {
    const world = await organizationWith(server.url, ['ann', 'bob']);
    const { ann, bob } = world.users;
    const { cat } = await signInUsers(server.url, ['cat']);
    for (const whom of [bob!, ann!]) {
      const refused = await invite(ann!, world.orgId, whom);
      expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', field: 'userId' });
    }
    const first = (await invite(ann!, world.orgId, cat!)).data!.inviteToOrganization;
    const again = (await invite(ann!, world.orgId, cat!)).data!.inviteToOrganization;
    const byBob = (await invite(bob!, world.orgId, cat!)).data!.inviteToOrganization;
    expect(again).toEqual(first);
    expect(byBob).toEqual(first); // still ann's invitation
    expect(await pendingOf(cat!)).toEqual([first]);
    expect(await pendingOf(bob!)).toEqual([]);
  });

  it('declined, it is out of the list and cannot be accepted; the organization still sees it as pending', async () => {
    const world = await organizationWith(server.url, ['ann']);
    const { ann } = world.users;
    const { bob } = await signInUsers(server.url, ['bob']);
    const invited = (await invite(ann!, world.orgId, bob!)).data!.inviteToOrganization;
    expect((await decline(bob!, invited.id)).data?.declineInvitation).toMatchObject({ id: invited.id, status: 'DECLINED' });
    expect((await decline(bob!, invited.id)).data?.declineInvitation.status).toBe('DECLINED');
    expect(await pendingOf(bob!)).toEqual([]);
    const late = await accept(bob!, invited.id);
    expect(late.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', field: 'invitationId' });
    expect(await memberNames(ann!, world.orgId)).toEqual(['ann']);
    // Asking again changes nothing for bob, and tells ann nothing of his answer.
    expect((await invite(ann!, world.orgId, bob!)).data?.inviteToOrganization).toEqual(invited);
    expect(await pendingOf(bob!)).toEqual([]);
    expect((await revoke(ann!, invited.id)).data?.revokeInvitation.status).toBe('REVOKED');
  });

  it('revoked, it leaves the invitee\'s list and cannot be accepted, until the organization invites again', async () => {
    const world = await organizationWith(server.url, ['ann', 'bob']);
    const { ann, bob } = world.users;
    const { cat } = await signInUsers(server.url, ['cat']);
    const invited = (await invite(ann!, world.orgId, cat!)).data!.inviteToOrganization;
    const phone = await newcomersStream(cat!);
    expect((await revoke(bob!, invited.id)).data?.revokeInvitation).toMatchObject({ id: invited.id, status: 'REVOKED' });
    await eventOn(phone.stream, (e) => e.__typename === 'InvitationEvent' && e.invitation.status === 'REVOKED');
    expect(await pendingOf(cat!)).toEqual([]);
    expect((await accept(cat!, invited.id)).errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', field: 'invitationId' });
    expect((await decline(cat!, invited.id)).data?.declineInvitation.status).toBe('REVOKED');
    expect(await memberNames(ann!, world.orgId)).toEqual(['ann', 'bob']);

    const renewed = (await invite(bob!, world.orgId, cat!)).data!.inviteToOrganization;
    expect(renewed).toMatchObject({ id: invited.id, status: 'PENDING', inviter: { name: 'bob' } });
    await eventOn(phone.stream, (e) => e.__typename === 'InvitationEvent' && e.invitation.status === 'PENDING' && e.invitation.inviter.name === 'bob');
    expect((await accept(cat!, invited.id)).data?.acceptInvitation.status).toBe('ACCEPTED');
    // Accepting again changes nothing; declining or revoking an accepted one does not undo it.
    expect((await accept(cat!, invited.id)).data?.acceptInvitation.status).toBe('ACCEPTED');
    expect((await decline(cat!, invited.id)).errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', field: 'invitationId' });
    expect((await revoke(ann!, invited.id)).data?.revokeInvitation.status).toBe('ACCEPTED');
    expect(await memberNames(ann!, world.orgId)).toEqual(['ann', 'bob', 'cat']);
    const org = await ann!.run(OrganizationChannelsDocument, { organizationId: world.orgId });
    expect(org.organization?.memberCount).toBe(3);
    await phone.client.dispose();
  });

  it('is the invitee\'s alone to answer: anyone else gets the answer of an invitation that does not exist', async () => {
    const world = await organizationWith(server.url, ['ann', 'dan']);
    const { ann, dan } = world.users;
    const { bob, mallory } = await signInUsers(server.url, ['bob', 'mallory']);
    const invited = (await invite(ann!, world.orgId, bob!)).data!.inviteToOrganization;
    const neverMade = Buffer.from('Invitation:inv_never-made').toString('base64url');
    const nodeOf = (user: Member, id: string) => user.request('query($id: ID!) { node(id: $id) { id ... on Invitation { status } } }', { id });

    const attempts = [
      [accept(mallory!, invited.id), accept(mallory!, neverMade)],
      [decline(mallory!, invited.id), decline(mallory!, neverMade)],
      [revoke(mallory!, invited.id), revoke(mallory!, neverMade)],
      [revoke(bob!, invited.id), revoke(bob!, neverMade)], // the invitee declines; revoking is the organization's
      [accept(ann!, invited.id), accept(ann!, neverMade)], // a member cannot accept for the invitee
      [decline(dan!, invited.id), decline(dan!, neverMade)],
      [nodeOf(mallory!, invited.id), nodeOf(mallory!, neverMade)],
    ];
    for (const [theirs, none] of attempts) {
      const [a, b] = await Promise.all([theirs!, none!]);
      expect(codes(a)).toEqual(['NOT_FOUND']);
      expect(a.errors).toEqual(b.errors);
      expect(a.data ?? null).toEqual(b.data ?? null);
    }
    // Nothing changed: still pending for bob, who may read it, as may the organization's members.
    expect(await pendingOf(bob!)).toEqual([invited]);
    expect((await nodeOf(bob!, invited.id)).data).toEqual({ node: { id: invited.id, status: 'PENDING' } });
    expect((await nodeOf(dan!, invited.id)).data).toEqual({ node: { id: invited.id, status: 'PENDING' } });

    // An outsider cannot invite into the organization, and stores nothing trying.
    const outsider = await invite(mallory!, world.orgId, { id: mallory!.id });
    expect(codes(outsider)).toEqual(['NOT_FOUND']);
    expect(await pendingOf(mallory!)).toEqual([]);
    const tooLong = Buffer.from(`User:${'x'.repeat(201)}`).toString('base64url'); // no subject is that long
    expect((await invite(ann!, world.orgId, { id: tooLong })).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'userId' });
    for (const bad of ['not an id', world.generalId]) {
      expect((await accept(bob!, bad)).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'invitationId' });
    }
  });

  it('shows the invitee the organization and the inviter by name, not its members or the inviter\'s presence', async () => {
    const world = await organizationWith(server.url, ['ann', 'cat']);
    const { ann } = world.users;
    const { bob } = await signInUsers(server.url, ['bob']);
    await invite(ann!, world.orgId, bob!);
    const seen = await bob!.request('{ me { invitations { organization { name memberCount } inviter { name } } } }');
    expect(seen).toEqual({ data: { me: { invitations: [{ organization: { name: 'Acme', memberCount: 2 }, inviter: { name: 'ann' } }] } } });
    const members = await bob!.request('{ me { invitations { organization { members(first: 10) { edges { node { name } } } } } } }');
    expect(codes(members)).toEqual(['NOT_FOUND']);
    expect(JSON.stringify(members.data ?? null)).not.toContain('cat');
    const presence = await bob!.request('{ me { invitations { inviter { presence { status } } } } }');
    expect(codes(presence)).toEqual(['NOT_FOUND']);
    // A user's invitations are theirs alone, even for members who see the user.
    const others = await ann!.request('query($id: ID!) { node(id: $id) { ... on User { invitations { id } } } }', { id: world.users.cat!.id });
    expect(codes(others)).toEqual(['FORBIDDEN']);
  });

  it('is the only way in: addOrganizationMember is no longer part of the API', async () => {
    const world = await organizationWith(server.url, ['ann']);
    const { bob } = await signInUsers(server.url, ['bob']);
    const result = await world.users.ann!.request('mutation($i: ID!, $o: ID!) { addOrganizationMember(input: { organizationId: $o, userId: $i }) { id } }', {
      i: bob!.id,
      o: world.orgId,
    });
    expect(result.data ?? null).toBeNull();
    expect(result.errors?.[0]?.message).toContain('addOrganizationMember');
    expect(await memberNames(world.users.ann!, world.orgId)).toEqual(['ann']);
  });
});
