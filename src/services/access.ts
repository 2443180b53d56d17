// Who may see and do what. An outsider learns nothing of an organization: not even that it
// exists (NOT_FOUND); a member who may see a channel but not act in it gets FORBIDDEN.
import type { RequestContext } from '../context.ts';
import type { NodeTypename } from '../domain/ids.ts';
import type { Channel, ChannelMember, Organization } from '../domain/types.ts';
import { AppError } from '../errors.ts';

/** The organization, when the viewer is one of its members; NOT_FOUND otherwise. */
export async function requireOrgMember(ctx: RequestContext, orgId: string, field = 'organizationId'): Promise<Organization> {
  const [org, member] = await Promise.all([
    ctx.loaders.organizations.load(orgId),
    ctx.loaders.orgMember.load({ orgId, userId: ctx.viewer.id }),
  ]);
  if (!org || !member) throw AppError.notFound('Organization', field);
  return org;
}

/** True when the viewer may see the channel: a member of its organization, and of it when DIRECT. */
export async function canSeeChannel(ctx: RequestContext, channel: Channel): Promise<boolean> {
  if (channel.kind === 'DIRECT') {
    return (await ctx.loaders.channelMember.load({ channelId: channel.id, userId: ctx.viewer.id })) !== null;
  }
  return (await ctx.loaders.orgMember.load({ orgId: channel.orgId, userId: ctx.viewer.id })) !== null;
}

/** The channel, when the viewer may see it; NOT_FOUND otherwise. */
export async function requireVisibleChannel(ctx: RequestContext, channelId: string, field = 'channelId'): Promise<Channel> {
  const channel = await ctx.loaders.channels.load(channelId);
  if (!channel || !(await canSeeChannel(ctx, channel))) throw AppError.notFound('Channel', field);
  return channel;
}

/** The channel and the viewer's membership; FORBIDDEN for an organization member outside it. */
export async function requireChannelMember(
  ctx: RequestContext,
  channelId: string,
  field = 'channelId',
): Promise<{ channel: Channel; member: ChannelMember }> {
  // Read together: the membership is the same whatever the channel turns out to be.
  const [channel, member] = await Promise.all([
    requireVisibleChannel(ctx, channelId, field),
    ctx.loaders.channelMember.load({ channelId, userId: ctx.viewer.id }),
  ]);
  if (!member) throw AppError.forbidden('Join the channel first: only its members can read and send messages');
  return { channel, member };
}

/** Fails with NOT_FOUND naming the field unless every user shares an organization with the viewer. */
export async function requireVisibleUsers(ctx: RequestContext, userIds: readonly string[], field: string): Promise<void> {
  const orgIds = await ctx.loaders.orgIdsOfUser.load(ctx.viewer.id);
  const memberships = await Promise.all(
    userIds.map((userId) =>
      userId === ctx.viewer.id
        ? true
        : Promise.all(orgIds.map((orgId) => ctx.loaders.orgMember.load({ orgId, userId }))).then((found) => found.some(Boolean)),
    ),
  );
  if (memberships.some((visible) => !visible)) throw new AppError('NOT_FOUND', `${field}: no such user in your organizations`, { field });
}

/** Fails unless the viewer may see the record a global id names (node(id), federation references). */
export async function requireVisibleNode(ctx: RequestContext, typename: NodeTypename, id: string): Promise<void> {
  switch (typename) {
    case 'Organization':
      await requireOrgMember(ctx, id, 'id');
      return;
    case 'Channel':
      await requireVisibleChannel(ctx, id, 'id');
      return;
    case 'User':
      await requireVisibleUsers(ctx, [id], 'id');
      return;
    case 'Invitation': {
      // Its invitee, or a member of the organization it is to.
      const invitation = await ctx.loaders.invitations.load(id);
      const visible =
        invitation &&
        (invitation.inviteeId === ctx.viewer.id || (await ctx.loaders.orgMember.load({ orgId: invitation.orgId, userId: ctx.viewer.id })));
      if (!visible) throw AppError.notFound('Invitation', 'id');
      return;
    }
    case 'Message': {
      const message = await ctx.loaders.messages.load(id);
      if (!message) throw AppError.notFound('Message', 'id');
      await requireChannelMember(ctx, message.channelId, 'id');
      return;
    }
  }
}
