// A small organization for API tests, built through the API as a client app would.
import {
  AcceptInvitationDocument,
  CreateChannelDocument,
  CreateOrganizationDocument,
  InviteToOrganizationDocument,
  MeDocument,
  OpenDirectChannelDocument,
  SendMessageDocument,
} from '../../operations/generated/graphql.ts';
import { HttpUser } from './client.ts';

export interface Member extends HttpUser {
  /** The user's global id. */
  id: string;
}

let run = 0;

/** Signs in users (provisioning them through `me`) with names unique to this test run. */
export async function signInUsers(url: string, names: string[]): Promise<Record<string, Member>> {
  run += 1;
  const prefix = `${process.pid}-${run}`;
  const users: Record<string, Member> = {};
  for (const name of names) {
    const user = await HttpUser.signIn(url, `${name}-${prefix}`, name);
    const { me } = await user.run(MeDocument);
    users[name] = Object.assign(user, { id: me.id });
  }
  return users;
}

export interface World {
  users: Record<string, Member>;
  orgId: string;
  generalId: string;
}

/** `by` invites `whom` into the organization and `whom` accepts: a member, in #general. */
export async function joinByInvitation(organizationId: string, by: Member, whom: Member): Promise<void> {
  const { inviteToOrganization } = await by.run(InviteToOrganizationDocument, { input: { organizationId, userId: whom.id } });
  await whom.run(AcceptInvitationDocument, { input: { invitationId: inviteToOrganization.id } });
}

/** Users, an organization created by the first of them, who invited the others; they all accepted. */
export async function organizationWith(url: string, names: string[], orgName = 'Acme'): Promise<World> {
  const users = await signInUsers(url, names);
  const owner = users[names[0]!]!;
  const { createOrganization } = await owner.run(CreateOrganizationDocument, { input: { name: orgName } });
  for (const name of names.slice(1)) await joinByInvitation(createOrganization.id, owner, users[name]!);
  return { users, orgId: createOrganization.id, generalId: createOrganization.channels.edges[0]!.node.id };
}

/** A GROUP channel created by `by` with the given members. */
export async function channelOf(world: World, by: Member, name: string, members: Member[]) {
  const { createChannel } = await by.run(CreateChannelDocument, {
    input: { organizationId: world.orgId, name, memberIds: members.map((m) => m.id) },
  });
  return createChannel.id;
}

export async function directChannel(world: World, from: Member, to: Member) {
  const { openDirectChannel } = await from.run(OpenDirectChannelDocument, { input: { organizationId: world.orgId, userId: to.id } });
  return openDirectChannel.id;
}

export async function send(user: Member, channelId: string, text: string, extra: { mentionIds?: string[]; mentionsChannel?: boolean; clientMessageId?: string } = {}) {
  return (await user.run(SendMessageDocument, { input: { channelId, text, ...extra } })).sendMessage;
}
