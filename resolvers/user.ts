// User: who someone is, their presence and organizations, and the viewer's invitations; Query.me.
import { builder } from '../src/builder.ts';
import { idCursor } from '../src/domain/cursors.ts';
import { presenceOf } from '../src/services/presence.ts';
import { requireVisibleUsers } from '../src/services/access.ts';
import { pendingInvitations } from '../src/services/invitations.ts';
import { forwardPage, toConnection } from './pagination.ts';
import { InvitationRef, OrganizationConnection, PresenceRef, UserRef, VIEWER_SPECIFIC, listOfAtMost } from './refs.ts';
import { AppError } from '../src/errors.ts';
import { idOf } from '../src/domain/ids.ts';

UserRef.implement({
  description: 'A person using the chat.',
  fields: (t) => ({
    name: t.exposeString('name', { description: "Handle used in mentions; from the token's name claim." }),
    displayName: t.exposeString('displayName', { nullable: true }),
    presence: t.field({
      type: PresenceRef,
      extensions: VIEWER_SPECIFIC, // visible to people who share an organization (an invitee sees the inviter, not their presence)
      resolve: async (user, _args, ctx) => {
        await requireVisibleUsers(ctx, [user.id], 'presence');
        return (await presenceOf(ctx, [user.id]))[0]!;
      },
    }),
    invitations: t.field({
      type: [InvitationRef],
      extensions: VIEWER_SPECIFIC,
      description: "Invitations to organizations waiting for the viewer's answer, newest first (only on the viewer's own User).",
      resolve: (user, _args, ctx) => {
        if (user.id !== ctx.viewer.id) throw AppError.forbidden("Only your own invitations can be read: ask for me { invitations }");
        return pendingInvitations(ctx);
      },
    }),
    organizations: t.field({
      type: OrganizationConnection,
      extensions: { ...VIEWER_SPECIFIC, ...listOfAtMost((limits) => limits.pageMax) },
      description: 'The organizations this user and the viewer both belong to (all of them for the viewer).',
      args: { first: t.arg.int(), after: t.arg.string() },
      resolve: async (user, args, ctx) => {
        const size = forwardPage(args, ctx.deps.config.limits);
        const after = args.after == null ? null : idCursor.decode(args.after, 'after');
        const page = await ctx.deps.store.listOrganizationsOfUser(user.id, after, size + 1);
        const shown = page.slice(0, size);
        const visible =
          user.id === ctx.viewer.id
            ? shown
            : (
                await Promise.all(
                  shown.map(async (org) => ((await ctx.loaders.orgMember.load({ orgId: org.id, userId: ctx.viewer.id })) ? org : null)),
                )
              ).filter((org) => org !== null);
        return toConnection(visible, (org) => idCursor.encode(org.id), {
          hasNextPage: page.length > size,
          hasPreviousPage: after !== null,
        });
      },
    }),
  }),
});

builder.queryFields((t) => ({
  me: t.field({
    type: UserRef,
    description: "The signed-in user. Provisioned from the token's claims on first sight.",
    resolve: (_root, _args, ctx) => ctx.viewer.id,
  }),
}));

builder.asEntity(UserRef, {
  key: builder.selection<{ id: string }>('id'),
  resolveReference: async ({ id }, ctx) => {
    const userId = idOf('User', id, 'id');
    await requireVisibleUsers(ctx, [userId], 'id');
    const user = await ctx.loaders.users.load(userId);
    if (!user) throw AppError.notFound('User');
    return user;
  },
});
