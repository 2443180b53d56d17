// Invitation: a member's invitation of a user into an organization; invite, accept, decline, revoke.
import { builder } from '../src/builder.ts';
import {
  acceptInvitation,
  declineInvitation,
  inviteToOrganization,
  revokeInvitation,
} from '../src/services/invitations.ts';
import { InvitationRef, OrganizationRef, UserRef, VIEWER_SPECIFIC } from './refs.ts';

const InvitationStatus = builder.enumType('InvitationStatus', {
  values: ['PENDING', 'ACCEPTED', 'DECLINED', 'REVOKED'] as const,
});

InvitationRef.implement({
  description: 'An invitation into an organization; only the invitee accepting it makes them a member.',
  fields: (t) => ({
    organization: t.field({ type: OrganizationRef, resolve: (invitation) => invitation.orgId }),
    inviter: t.field({ type: UserRef, description: 'Who invited the viewer.', resolve: (invitation) => invitation.inviterId }),
    status: t.field({
      type: InvitationStatus,
      extensions: VIEWER_SPECIFIC,
      description: 'Members of the organization see a declined invitation as PENDING: only the invitee tells whether they declined.',
      resolve: (invitation, _args, ctx) =>
        invitation.status === 'DECLINED' && invitation.inviteeId !== ctx.viewer.id ? 'PENDING' : invitation.status,
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
