// Channel: its members, messages and the viewer's read state; create, open, join, leave, read.
import { builder } from '../src/builder.ts';
import { idCursor, seqCursor } from '../src/domain/cursors.ts';
import { idOf } from '../src/domain/ids.ts';
import { requireChannelMember, requireVisibleChannel } from '../src/services/access.ts';
import {
  addChannelMember,
  createChannel,
  joinChannel,
  openDirectChannel,
  removeChannelMember,
} from '../src/services/channels.ts';
import { acknowledgeDelivery, markChannelRead, unreadCount } from '../src/services/read-state.ts';
import type { RequestContext } from '../src/context.ts';
import type { Channel } from '../src/domain/types.ts';
import { memberConnection, pageWindow, rangePage, toConnection } from './pagination.ts';
import { channelName, channelReadState } from './channel-state.ts';
import { ChannelRef, MessageConnection, MessageRef, OrganizationRef, PER_VIEWER, UserConnection, VIEWER_SPECIFIC, listOfAtMost, perViewer } from './refs.ts';

const ChannelKind = builder.enumType('ChannelKind', { values: ['GROUP', 'DIRECT'] as const });

ChannelRef.implement({
  description: 'A conversation: a GROUP channel of an organization, or a DIRECT one between two members.',
  fields: (t) => ({
    kind: t.field({ type: ChannelKind, resolve: (channel) => channel.kind }),
    name: t.string({
      description: "For DIRECT channels, the other member's name as the viewer sees it.",
      extensions: PER_VIEWER,
      resolve: perViewer(channelName, (name) => name),
    }),
    organization: t.field({ type: OrganizationRef, resolve: (channel) => channel.orgId }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    lastActiveAt: t.expose('lastActiveAt', { type: 'DateTime' }),
    lastMessage: t.field({
      type: MessageRef,
      nullable: true,
      extensions: VIEWER_SPECIFIC, // members only
      resolve: async (channel, _args, ctx) => {
        await requireChannelMember(ctx, channel.id);
        if (channel.lastSeq === 0) return null;
        return ctx.loaders.messageBySeq.load({ channelId: channel.id, seq: channel.lastSeq });
      },
    }),
    memberCount: t.exposeInt('memberCount'),
    members: t.field({
      type: UserConnection,
      extensions: listOfAtMost((limits) => limits.pageMax),
      args: { first: t.arg.int(), after: t.arg.string() },
      resolve: (channel, args, ctx) =>
        memberConnection(args, ctx.deps.config.limits, (after, limit) => ctx.deps.store.listChannelMembers(channel.id, after, limit)),
    }),
    messages: t.field({
      type: MessageConnection,
      extensions: { ...VIEWER_SPECIFIC, ...listOfAtMost((limits) => limits.pageMax) }, // members only
      description:
        'Messages in seq order, paged as the Relay connection spec says: after/before narrow the range, then first takes its oldest and last its newest. last/before page backwards from the newest (the default: the newest 50); first/after page forwards.',
      args: { first: t.arg.int(), after: t.arg.string(), last: t.arg.int(), before: t.arg.string() },
      resolve: async (channel, args, ctx) => {
        const window = pageWindow(args, ctx.deps.config.limits);
        const afterSeq = args.after == null ? undefined : seqCursor.decode(args.after, 'after');
        const beforeSeq = args.before == null ? undefined : seqCursor.decode(args.before, 'before');
        await requireChannelMember(ctx, channel.id);
        // seqs are 1 … lastSeq without holes: whether a cursor's message exists needs no read.
        const exists = (seq: number | undefined): seq is number => seq !== undefined && seq >= 1 && seq <= channel.lastSeq;
        // As the spec's ApplyCursorsToEdges: a cursor narrows the range only when its message is in what is left.
        const from = exists(afterSeq) ? afterSeq : undefined;
        const to = exists(beforeSeq) && (from === undefined || beforeSeq > from) ? beforeSeq : undefined;
        const { nodes, hasPreviousPage, hasNextPage } = await rangePage(window, args, {
          read: (fromEnd, limit) =>
            ctx.deps.store.findMessagesByChannel(channel.id, { afterSeq: from, beforeSeq: to, limit, newestFirst: fromEnd }),
          existsBeforeAfter: () => exists(afterSeq),
          existsFromBefore: () => exists(beforeSeq),
        });
        for (const message of nodes) ctx.loaders.messages.prime(message.id, message);
        return toConnection(nodes, (m) => seqCursor.encode(m.seq), { hasPreviousPage, hasNextPage });
      },
    }),
    unreadCount: t.int({
      extensions: PER_VIEWER,
      description: "The viewer's read state: messages after the viewer's read marker, not counting the viewer's own.",
      resolve: perViewer(channelReadState, (state, channel) => unreadCount(channel, state.member)),
    }),
    mentionCount: t.int({
      extensions: PER_VIEWER,
      description: 'Unread messages that mention the viewer, directly or through mentionsChannel.',
      resolve: perViewer(channelReadState, (state) => state.mentionCount),
    }),
    hasUnread: t.boolean({
      extensions: PER_VIEWER,
      resolve: perViewer(channelReadState, (state, channel) => unreadCount(channel, state.member) > 0),
    }),
    lastReadSeq: t.int({
      extensions: PER_VIEWER,
      description: 'seq of the last message the viewer has read (0 when none).',
      resolve: perViewer(channelReadState, (state) => state.member?.lastReadSeq ?? 0),
    }),
  }),
});

const CreateChannelInput = builder.inputType('CreateChannelInput', {
  fields: (t) => ({
    organizationId: t.id({ required: true }),
    name: t.string({ required: true }),
    memberIds: t.idList(),
  }),
});
const OpenDirectChannelInput = builder.inputType('OpenDirectChannelInput', {
  fields: (t) => ({ organizationId: t.id({ required: true }), userId: t.id({ required: true }) }),
});
const ChannelInput = builder.inputType('ChannelInput', {
  fields: (t) => ({ channelId: t.id({ required: true }) }),
});
const ChannelMemberInput = builder.inputType('ChannelMemberInput', {
  fields: (t) => ({ channelId: t.id({ required: true }), userId: t.id({ required: true }) }),
});
const MarkChannelReadInput = builder.inputType('MarkChannelReadInput', {
  fields: (t) => ({
    channelId: t.id({ required: true }),
    throughSeq: t.int({ description: "Defaults to the channel's newest message. The read marker never moves backwards." }),
  }),
});
const AcknowledgeDeliveryInput = builder.inputType('AcknowledgeDeliveryInput', {
  fields: (t) => ({ channelId: t.id({ required: true }), throughSeq: t.int({ required: true }) }),
});

builder.queryFields((t) => ({
  channel: t.field({
    type: ChannelRef,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => requireVisibleChannel(ctx, idOf('Channel', args.id, 'id'), 'id'),
  }),
}));

builder.mutationFields((t) => ({
  createChannel: t.field({
    type: ChannelRef,
    args: { input: t.arg({ type: CreateChannelInput, required: true }) },
    resolve: (_root, { input }, ctx) => createChannel(ctx, input),
  }),
  openDirectChannel: t.field({
    type: ChannelRef,
    description: 'Returns the one DIRECT channel between the viewer and the user, creating it on first use.',
    args: { input: t.arg({ type: OpenDirectChannelInput, required: true }) },
    resolve: (_root, { input }, ctx) => openDirectChannel(ctx, input),
  }),
  joinChannel: t.field({
    type: ChannelRef,
    args: { input: t.arg({ type: ChannelInput, required: true }) },
    resolve: (_root, { input }, ctx) => joinChannel(ctx, input),
  }),
  addChannelMember: t.field({
    type: ChannelRef,
    args: { input: t.arg({ type: ChannelMemberInput, required: true }) },
    resolve: (_root, { input }, ctx) => addChannelMember(ctx, input),
  }),
  removeChannelMember: t.field({
    type: ChannelRef,
    args: { input: t.arg({ type: ChannelMemberInput, required: true }) },
    resolve: (_root, { input }, ctx) => removeChannelMember(ctx, input),
  }),
  markChannelRead: t.field({
    type: ChannelRef,
    args: { input: t.arg({ type: MarkChannelReadInput, required: true }) },
    resolve: (_root, { input }, ctx) => markChannelRead(ctx, input),
  }),
  acknowledgeDelivery: t.field({
    type: ChannelRef,
    args: { input: t.arg({ type: AcknowledgeDeliveryInput, required: true }) },
    resolve: (_root, { input }, ctx) => acknowledgeDelivery(ctx, input),
  }),
}));

builder.asEntity(ChannelRef, {
  key: builder.selection<{ id: string }>('id'),
  resolveReference: ({ id }, ctx) => requireVisibleChannel(ctx, idOf('Channel', id, 'id'), 'id'),
});
