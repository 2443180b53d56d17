// Organization membership with consent: a member invites a user, and only that user's acceptance
// makes them a member. Until then the organization learns nothing about them. The invitation is
// stored for whatever user id was given, known or not (an id nobody signed in with is simply never
// seen, unless that user signs in later), so the inviter's answer is the same either way; and a
// member is never told that the invitee declined (resolvers/invitation.ts shows it as pending).
import type { RequestContext } from '../context.ts';
import { idOf, newId } from '../domain/ids.ts';
import type { Invitation } from '../domain/types.ts';
import { AppError } from '../errors.ts';
import { topics } from '../realtime/events.ts';
import { requireOrgMember } from './access.ts';

/** Most pending invitations shown to a user, newest first: a flood of them cannot grow the answer. */
const INVITATIONS_SHOWN_MAX = 100;

/** Tells every device of the invitee what became of the invitation. */
async function announce(ctx: RequestContext, invitation: Invitation): Promise<void> {
  await ctx.deps.bus.publish(topics.user(invitation.inviteeId), { kind: 'invitation', invitation });
}

/** The invitation, when it is the viewer's own; someone else's answers as one that does not exist. */
async function requireOwnInvitation(ctx: RequestContext, globalId: string): Promise<Invitation> {
  const invitation = await ctx.loaders.invitations.load(idOf('Invitation', globalId, 'invitationId'));
  if (!invitation || invitation.inviteeId !== ctx.viewer.id) throw AppError.notFound('Invitation', 'invitationId');
  return invitation;
}

/** The invitation as stored now (after a concurrent change won). */
async function reloaded(ctx: RequestContext, id: string): Promise<Invitation> {
  ctx.refreshLoaders();
  const invitation = await ctx.loaders.invitations.load(id);
  if (!invitation) throw AppError.notFound('Invitation', 'invitationId');
  return invitation;
}

function refusedAs(invitation: Invitation): AppError {
  if (invitation.status === 'ACCEPTED') {
    return AppError.conflict('invitationId', 'This invitation was accepted: you are a member of the organization');
  }
  const how = invitation.status === 'DECLINED' ? 'declined' : 'revoked';
  return AppError.conflict('invitationId', `This invitation was ${how}; only a new invitation can be accepted`);
}

/**
 * A member invites a user into the organization. Inviting again returns the same invitation; a
 * member of the organization already is a CONFLICT (members see who is a member anyway).
 */
export async function inviteToOrganization(ctx: RequestContext, input: { organizationId: string; userId: string }): Promise<Invitation> {
  const orgId = idOf('Organization', input.organizationId, 'organizationId');
  const inviteeId = idOf('User', input.userId, 'userId');
  await requireOrgMember(ctx, orgId);
  if (await ctx.loaders.orgMember.load({ orgId, userId: inviteeId })) {
    throw AppError.conflict('userId', 'That user is a member of this organization already');
  }
  await ctx.deps.rateLimits.invitation.take(ctx.viewer.id);
  const { invitation, opened } = await ctx.deps.store.openInvitation({
    id: newId('inv'),
    orgId,
    inviteeId,
    inviterId: ctx.viewer.id,
    status: 'PENDING',
    createdAt: new Date(),
  });
  if (opened) await announce(ctx, invitation);
  return invitation;
}

/** The viewer accepts: they become a member of the organization and join its #general. Accepting again changes nothing. */
export async function acceptInvitation(ctx: RequestContext, input: { invitationId: string }): Promise<Invitation> {
  const invitation = await requireOwnInvitation(ctx, input.invitationId);
  if (invitation.status === 'DECLINED' || invitation.status === 'REVOKED') throw refusedAs(invitation);
  await ctx.deps.rateLimits.invitation.take(ctx.viewer.id);
  const accepted = await ctx.deps.store.acceptInvitation(invitation.id, new Date());
  if (!accepted) throw refusedAs(await reloaded(ctx, invitation.id));
  ctx.refreshLoaders();
  if (accepted.joined) {
    // The membership event makes every open viewerEvents stream follow #general at once.
    const org = await ctx.loaders.organizations.load(invitation.orgId);
    const general = org && (await ctx.loaders.channelMember.load({ channelId: org.generalChannelId, userId: ctx.viewer.id }));
    if (general) {
      await ctx.deps.bus.publish(topics.user(ctx.viewer.id), {
        kind: 'membership',
        channelId: general.channelId,
        joined: true,
        fromSeq: general.lastReadSeq,
      });
    }
  }
  if (invitation.status === 'PENDING') await announce(ctx, accepted.invitation);
  return accepted.invitation;
}

/** The viewer declines; an invitation declined or revoked already stays as it is. */
export async function declineInvitation(ctx: RequestContext, input: { invitationId: string }): Promise<Invitation> {
  const invitation = await requireOwnInvitation(ctx, input.invitationId);
  if (invitation.status === 'ACCEPTED') throw refusedAs(invitation);
  if (invitation.status !== 'PENDING') return invitation;
  await ctx.deps.rateLimits.invitation.take(ctx.viewer.id);
  const declined = await ctx.deps.store.changeInvitationStatus(invitation.id, ['PENDING'], 'DECLINED');
  if (!declined) {
    const now = await reloaded(ctx, invitation.id);
    if (now.status === 'ACCEPTED') throw refusedAs(now);
    return now;
  }
  await announce(ctx, declined);
  return declined;
}

/**
 * A member of the organization takes an invitation back, pending or declined alike (so whether the
 * invitee declined stays theirs to tell); an accepted one stays as it is. Anyone else gets NOT_FOUND.
 */
export async function revokeInvitation(ctx: RequestContext, input: { invitationId: string }): Promise<Invitation> {
  const invitation = await ctx.loaders.invitations.load(idOf('Invitation', input.invitationId, 'invitationId'));
  const member = invitation && (await ctx.loaders.orgMember.load({ orgId: invitation.orgId, userId: ctx.viewer.id }));
  if (!invitation || !member) throw AppError.notFound('Invitation', 'invitationId');
  if (invitation.status === 'ACCEPTED' || invitation.status === 'REVOKED') return invitation;
  await ctx.deps.rateLimits.invitation.take(ctx.viewer.id);
  const revoked = await ctx.deps.store.changeInvitationStatus(invitation.id, ['PENDING', 'DECLINED'], 'REVOKED');
  if (!revoked) return reloaded(ctx, invitation.id);
  await announce(ctx, revoked);
  return revoked;
}

/** The viewer's pending invitations, newest first. */
export async function pendingInvitations(ctx: RequestContext): Promise<Invitation[]> {
  const invitations = await ctx.deps.store.listPendingInvitationsOfUser(ctx.viewer.id, INVITATIONS_SHOWN_MAX);
  for (const invitation of invitations) ctx.loaders.invitations.prime(invitation.id, invitation);
  return invitations;
}
