// Organization: its members and the viewer's channels in it; create one (members join by invitation: invitation.ts).
import { builder } from '../src/builder.ts';
import { activityCursor, idCursor } from '../src/domain/cursors.ts';
import { idOf } from '../src/domain/ids.ts';
import { requireOrgMember } from '../src/services/access.ts';
import { createOrganization } from '../src/services/organizations.ts';
import { forwardPage, memberConnection, toConnection } from './pagination.ts';
import { ChannelConnection, OrganizationRef, UserConnection, VIEWER_SPECIFIC, listOfAtMost } from './refs.ts';

OrganizationRef.implement({
  description: 'A workspace: its members and their channels.',
  fields: (t) => ({
    name: t.exposeString('name'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    memberCount: t.exposeInt('memberCount'),
    members: t.field({
      type: UserConnection,
      extensions: { ...VIEWER_SPECIFIC, ...listOfAtMost((limits) => limits.pageMax) }, // members only: an invitee sees the organization's name, not who is in it
      args: { first: t.arg.int(), after: t.arg.string() },
      resolve: async (org, args, ctx) => {
        await requireOrgMember(ctx, org.id, 'id');
        return memberConnection(args, ctx.deps.config.limits, (after, limit) => ctx.deps.store.listOrgMembers(org.id, after, limit));
      },
    }),
    channels: t.field({
      type: ChannelConnection,
      extensions: { ...VIEWER_SPECIFIC, ...listOfAtMost((limits) => limits.channelPageMax) },
      description:
        "The viewer's channels in this organization (group and direct), most recently active first. Pages of up to 1,000, so one request fills a sidebar.",
      args: { first: t.arg.int(), after: t.arg.string() },
      resolve: async (org, args, ctx) => {
        const size = forwardPage(args, ctx.deps.config.limits, ctx.deps.config.limits.channelPageMax);
        const after = args.after == null ? null : activityCursor.decode(args.after, 'after');
        const page = await ctx.deps.store.listChannelsOfMember(org.id, ctx.viewer.id, after, size + 1);
        const channels = page.slice(0, size);
        // The page already holds the channels: prime the loaders so their fields read no more.
        for (const channel of channels) ctx.loaders.channels.prime(channel.id, channel);
        return toConnection(channels, (c) => activityCursor.encode(c.lastActiveAt, c.id), {
          hasNextPage: page.length > size,
          hasPreviousPage: after !== null,
        });
      },
    }),
  }),
});

const CreateOrganizationInput = builder.inputType('CreateOrganizationInput', {
  fields: (t) => ({ name: t.string({ required: true }) }),
});

builder.queryFields((t) => ({
  organization: t.field({
    type: OrganizationRef,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => requireOrgMember(ctx, idOf('Organization', args.id, 'id'), 'id'),
  }),
}));

builder.mutationFields((t) => ({
  createOrganization: t.field({
    type: OrganizationRef,
    description: 'Creates the organization with the viewer as its first member, and its #general channel.',
    args: { input: t.arg({ type: CreateOrganizationInput, required: true }) },
    resolve: (_root, { input }, ctx) => createOrganization(ctx, input),
  }),
}));

builder.asEntity(OrganizationRef, {
  key: builder.selection<{ id: string }>('id'),
  resolveReference: ({ id }, ctx) => requireOrgMember(ctx, idOf('Organization', id, 'id'), 'id'),
});
