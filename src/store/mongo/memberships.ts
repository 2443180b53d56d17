// Joining and leaving: each membership change writes the membership (channelMembers, orgMembers),
// the member's own list (userChannels, userOrganizations), the marker counts and the member counts,
// in one unit (one transaction where the deployment has them). Without transactions the writes are
// ordered so that stopping part-way leaves nothing wrong in sight: the membership decides, then
// the list, then the counts (a count may fall short, never count someone absent); a leaver comes
// off the list before the membership goes (a member may be missing from a list, never a stranger
// listed), and a join lists the member even when the membership was there already, repairing a
// list a stopped join left short.
import type { Channel, ChannelMember, Invitation } from '../../domain/types.ts';
import * as channels from './channels.ts';
import type { Session } from './database.ts';
import * as invitations from './invitations.ts';
import * as memberCounts from './member-counts.ts';
import { type MarkerCollections, addFirstMembers as addFirstMarkers, addMember as addMarkers, removeMember as removeMarkers } from './member-markers.ts';
import * as orgMembers from './org-members.ts';
import * as organizations from './organizations.ts';
import * as userChannels from './user-channels.ts';
import * as userOrganizations from './user-organizations.ts';

export interface MembershipCollections extends MarkerCollections {
  channels: channels.Channels;
  userChannels: userChannels.UserChannels;
  memberCounts: memberCounts.MemberCounts;
  organizations: organizations.Organizations;
  orgMembers: orgMembers.OrgMembers;
  userOrganizations: userOrganizations.UserOrganizations;
  invitations: invitations.Invitations;
}

/** Stores a channel's first members (the channel is created in the same unit), lists it for them and counts them. */
export async function addFirstMembers(c: MembershipCollections, channel: Channel, memberIds: readonly string[], session: Session) {
  const userIds = [...new Set(memberIds)];
  if (userIds.length === 0) return;
  await addFirstMarkers(c, channel.id, userIds, channel.createdAt, session);
  await userChannels.addFirst(c.userChannels, channel.orgId, channel.id, userIds, channel.createdAt, session);
  await memberCounts.addMembers(c.memberCounts, channel.id, userIds, session);
}

/** Adds a member with markers at the channel's newest message, lists and counts it; null when already one (or no such channel). */
export async function addChannelMember(
  c: MembershipCollections,
  channelId: string,
  userId: string,
  at: Date,
  session: Session,
): Promise<ChannelMember | null> {
  const position = await channels.findPosition(c.channels, channelId, session);
  if (position === null) return null;
  const member = await addMarkers(c, channelId, userId, position.lastSeq, at, session);
  await userChannels.add(c.userChannels, { userId, orgId: position.orgId, channelId }, at, session);
  if (member) await memberCounts.addMember(c.memberCounts, channelId, userId, 1, session);
  return member;
}

/** Removes a member, off the list first, and counts it out; false when the user was not one. */
export async function removeChannelMember(c: MembershipCollections, channelId: string, userId: string, session: Session) {
  const position = await channels.findPosition(c.channels, channelId, session);
  if (position === null) return false;
  await userChannels.remove(c.userChannels, { userId, orgId: position.orgId, channelId }, session);
  if (!(await removeMarkers(c, channelId, userId, session))) return false;
  await memberCounts.addMember(c.memberCounts, channelId, userId, -1, session);
  return true;
}

/** Adds the user to the organization (listed and counted) and to its #general; false when already a member. */
export async function addOrgMember(c: MembershipCollections, orgId: string, userId: string, at: Date, session: Session) {
  const added = await orgMembers.insertIfAbsent(c.orgMembers, orgId, userId, at, session);
  await userOrganizations.add(c.userOrganizations, userId, orgId, at, session);
  if (!added) return false;
  await memberCounts.addMember(c.memberCounts, orgId, userId, 1, session);
  const generalChannelId = await organizations.findGeneralChannelId(c.organizations, orgId, session);
  if (generalChannelId !== null) await addChannelMember(c, generalChannelId, userId, at, session);
  return true;
}

/**
 * Accepts a pending invitation (or an accepted one once more) and adds the invitee to the
 * organization. Without transactions the status moves first: a failure before the membership is
 * repaired by accepting again.
 */
export async function acceptInvitation(
  c: MembershipCollections,
  id: string,
  at: Date,
  session: Session,
): Promise<{ invitation: Invitation; joined: boolean } | null> {
  const invitation = await invitations.changeStatus(c.invitations, id, ['PENDING', 'ACCEPTED'], 'ACCEPTED', session);
  return invitation && { invitation, joined: await addOrgMember(c, invitation.orgId, invitation.inviteeId, at, session) };
}
