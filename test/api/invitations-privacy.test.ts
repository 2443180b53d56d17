// What inviting tells the inviter about the invitee: nothing. A user's id is derived from their
// identity provider's subject, so anyone can name anyone; until they accept, the invitee is as
// closed to the organization as any stranger, and an id nobody ever signed in with gets the very
// same answers as a real user's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DeclineInvitationDocument,
  InviteToOrganizationDocument,
  MyInvitationsDocument,
  OpenDirectChannelDocument,
  OrganizationMembersDocument,
  PresenceChangedDocument,
  PresenceDocument,
  RevokeInvitationDocument,
} from '../../operations/generated/graphql.ts';
import { type GraphQLResponse, HttpUser, Subscription, codes, wsClient } from '../support/client.ts';
import { type TestServer, startServer } from '../support/server.ts';
import { type Member, organizationWith, signInUsers } from '../support/world.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => server?.stop());

/** An invitation as the inviter's app receives it, without what differs between any two invitations. */
function asInviterSees(result: GraphQLResponse<{ inviteToOrganization: { id: string; createdAt: string } }>) {
  expect(result.errors).toBeUndefined();
  const { id: _id, createdAt: _createdAt, ...rest } = result.data!.inviteToOrganization;
  return rest;
}

/** Everything the inviter could try to learn about a user id, answered. */
async function probe(ann: Member, orgId: string, userId: string) {
  const subscription = new Subscription(wsClient(server.wsUrl, ann.token, 'probe'), PresenceChangedDocument, { userIds: [userId] });
  await subscription.settled();
  subscription.stop();
  return {
    presence: await ann.request(PresenceDocument, { userIds: [userId] }),
    presenceChanged: subscription.errors.map((e) => JSON.stringify(e)),
    directChannel: await ann.request(OpenDirectChannelDocument, { input: { organizationId: orgId, userId } }),
    node: await ann.request('query($id: ID!) { node(id: $id) { id ... on User { name } } }', { id: userId }),
  };
}

describe('inviting', () => {
  it('answers for a real user exactly as for an id nobody ever signed in with', async () => {
    const world = await organizationWith(server.url, ['ann']);
    const { ann } = world.users;
    const { bob } = await signInUsers(server.url, ['bob']);
    const ghostSub = `nobody-${process.pid}-${Date.now()}`;
    const ghostId = Buffer.from(`User:${ghostSub}`).toString('base64url');
    const inviteBy = (userId: string) => ann!.request(InviteToOrganizationDocument, { input: { organizationId: world.orgId, userId } });

    const [toBob, toGhost] = [await inviteBy(bob!.id), await inviteBy(ghostId)];
    expect(asInviterSees(toBob)).toEqual(asInviterSees(toGhost));
    expect(asInviterSees(toBob)).toMatchObject({ status: 'PENDING', organization: { id: world.orgId }, inviter: { id: ann!.id } });
    expect(JSON.stringify(toBob)).not.toContain('bob');

    // Bob declines; asked again, both answer as before, each with its same invitation.
    await bob!.run(DeclineInvitationDocument, { input: { invitationId: toBob.data!.inviteToOrganization.id } });
    const [again, ghostAgain] = [await inviteBy(bob!.id), await inviteBy(ghostId)];
    expect(again.data?.inviteToOrganization).toEqual(toBob.data?.inviteToOrganization);
    expect(ghostAgain.data?.inviteToOrganization).toEqual(toGhost.data?.inviteToOrganization);

    // Presence, a direct channel, the user's record: refused alike, with the same words.
    const [ofBob, ofGhost] = [await probe(ann!, world.orgId, bob!.id), await probe(ann!, world.orgId, ghostId)];
    for (const answer of [ofBob.presence, ofBob.directChannel, ofBob.node]) expect(codes(answer)).toEqual(['NOT_FOUND']);
    expect(ofBob.presenceChanged.join()).toContain('NOT_FOUND');
    expect(ofBob).toEqual(ofGhost);
    const members = await ann!.run(OrganizationMembersDocument, { organizationId: world.orgId, first: 10 });
    expect(members.organization?.members.edges.map((e) => e.node.id)).toEqual([ann!.id]);

    // Revoking tells nothing either: both become REVOKED.
    for (const invited of [toBob, toGhost]) {
      const revoked = await ann!.run(RevokeInvitationDocument, { input: { invitationId: invited.data!.inviteToOrganization.id } });
      expect(revoked.revokeInvitation.status).toBe('REVOKED');
    }
  });

  it('to an id nobody signed in with waits, unseen, for whoever signs in with it', async () => {
    const world = await organizationWith(server.url, ['ann']);
    const sub = `later-${process.pid}-${Date.now()}`;
    const userId = Buffer.from(`User:${sub}`).toString('base64url');
    const invited = await world.users.ann!.run(InviteToOrganizationDocument, { input: { organizationId: world.orgId, userId } });
    const newcomer = await HttpUser.signIn(server.url, sub, 'newcomer');
    const { me } = await newcomer.run(MyInvitationsDocument);
    expect(me).toEqual({ id: userId, invitations: [invited.inviteToOrganization] });
  });
});
