// Invitation: a member's invitation of a user into an organization; invite, accept, decline, revoke.
import { builder } from '../src/builder.ts';
import type { RequestContext } from '../src/context.ts';
import type { ViewerState } from '../src/delivery/per-viewer.ts';
import type { Invitation, InvitationStatus as Status } from '../src/domain/types.ts';
import {
  acceptInvitation,
  declineInvitation,
  inviteToOrganization,
  revokeInvitation,
} from '../src/services/invitations.ts';
import { InvitationRef, OrganizationRef, PER_VIEWER, UserRef, perViewer } from './refs.ts';

const InvitationStatus = builder.enumType('InvitationStatus', {
  values: ['PENDING', 'ACCEPTED', 'DECLINED', 'REVOKED'] as const,
});

/** The status as the viewer sees it: only the invitee is told that they declined; members see it pending. */
const seenBy = (invitation: Invitation, viewerId: string): Status =>
  invitation.status === 'DECLINED' && invitation.inviteeId !== viewerId ? 'PENDING' : invitation.status;

const invitationStatus: ViewerState<Invitation, Status, RequestContext> = {
  read: async (invitation, ctx) => seenBy(invitation, ctx.viewer.id),
  readMany: async (invitation, contexts) => contexts.map((ctx) => seenBy(invitation, ctx.viewer.id)),
};

InvitationRef.implement({
  description: 'An invitation into an organization; only the invitee accepting it makes them a member.',
  fields: (t) => ({
    organization: t.field({ type: OrganizationRef, resolve: (invitation) => invitation.orgId }),
    inviter: t.field({ type: UserRef, description: 'Who invited the viewer.', resolve: (invitation) => invitation.inviterId }),
    status: t.field({
      type: InvitationStatus,
      extensions: PER_VIEWER,
      description: 'Members of the organization see a declined invitation as PENDING: only the invitee tells whether they declined.',
      resolve: perViewer(invitationStatus, (status) => status),
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

const InviteToOrganizationInput = builder.inputType('InviteToOrganizationInput', {
  fields: (t) => ({ organizationId: t.id({ required: true }), userId: t.id({ required: true }) }),
});

const InvitationInput = builder.inputType('InvitationInput', {
  fields: (t) => ({ invitationId: t.id({ required: true }) }),
});

builder.mutationFields((t) => ({
  inviteToOrganization: t.field({
    type: InvitationRef,
    description:
      'Invites a user; they become a member (and join #general) only when they accept. Inviting again returns the same invitation; the answer is the same whether or not the user exists.',
    args: { input: t.arg({ type: InviteToOrganizationInput, required: true }) },
    resolve: (_root, { input }, ctx) => inviteToOrganization(ctx, input),
  }),
  acceptInvitation: t.field({
    type: InvitationRef,
    description: "Accepts one of the viewer's invitations: they become a member of the organization and join its #general.",
    args: { input: t.arg({ type: InvitationInput, required: true }) },
    resolve: (_root, { input }, ctx) => acceptInvitation(ctx, input),
  }),
  declineInvitation: t.field({
    type: InvitationRef,
    description: "Declines one of the viewer's invitations.",
    args: { input: t.arg({ type: InvitationInput, required: true }) },
    resolve: (_root, { input }, ctx) => declineInvitation(ctx, input),
  }),
  revokeInvitation: t.field({
    type: InvitationRef,
    description: 'A member of the organization takes back an invitation that was not accepted.',
    args: { input: t.arg({ type: InvitationInput, required: true }) },
    resolve: (_root, { input }, ctx) => revokeInvitation(ctx, input),
  }),
}));
