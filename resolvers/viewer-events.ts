// ViewerEvent: the one stream a client app keeps open (new messages in all the viewer's channels
// with their badge counts, read-marker moves, membership changes, status of the viewer's messages,
// invitations to the viewer).
import { builder } from '../src/builder.ts';
import type { Message } from '../src/domain/types.ts';
import { type ViewerEvent, viewerEvents } from '../src/services/viewer-stream.ts';
import { ChannelRef, InvitationRef, MessageRef } from './refs.ts';
import { liveSubscription, resolveEvent } from './subscriptions.ts';

type Of<K extends ViewerEvent['kind']> = Extract<ViewerEvent, { kind: K }>;

const MessageAddedEvent = builder.objectRef<Of<'messageAdded'>>('MessageAddedEvent').implement({
  description: "A new message in one of the viewer's channels.",
  fields: (t) => ({
    message: t.field({ type: MessageRef, resolve: (event): Message => event.message }),
    channel: t.field({ type: ChannelRef, resolve: (event) => event.channelId }),
  }),
});

const ChannelReadEvent = builder.objectRef<Of<'channelRead'>>('ChannelReadEvent').implement({
  description: "The viewer's read marker moved (on this or another of the viewer's devices).",
  fields: (t) => ({ channel: t.field({ type: ChannelRef, resolve: (event) => event.channelId }) }),
});

const ChannelMembershipEvent = builder.objectRef<Of<'membership'>>('ChannelMembershipEvent').implement({
  description: 'The viewer joined or left a channel.',
  fields: (t) => ({
    channel: t.field({ type: ChannelRef, resolve: (event) => event.channelId }),
    joined: t.exposeBoolean('joined'),
  }),
});

const MessageStatusEvent = builder.objectRef<Of<'messageStatus'>>('MessageStatusEvent').implement({
  description: 'The status of a message the viewer sent changed.',
  fields: (t) => ({ message: t.field({ type: MessageRef, resolve: (event) => event.messageId }) }),
});

const InvitationEvent = builder.objectRef<Of<'invitation'>>('InvitationEvent').implement({
  description: 'An invitation to the viewer was made, answered (on any of their devices) or revoked.',
  fields: (t) => ({ invitation: t.field({ type: InvitationRef, resolve: (event) => event.invitation }) }),
});

const TYPENAMES = {
  messageAdded: 'MessageAddedEvent',
  channelRead: 'ChannelReadEvent',
  membership: 'ChannelMembershipEvent',
  messageStatus: 'MessageStatusEvent',
  invitation: 'InvitationEvent',
} as const satisfies Record<ViewerEvent['kind'], string>;

const ViewerEventUnion = builder.unionType('ViewerEvent', {
  types: [MessageAddedEvent, ChannelReadEvent, ChannelMembershipEvent, MessageStatusEvent, InvitationEvent],
  resolveType: (event) => TYPENAMES[event.kind],
});

builder.subscriptionFields((t) => ({
  viewerEvents: t.field({
    type: ViewerEventUnion,
    description:
      "Everything the viewer's devices must hear about: new messages in any of the viewer's channels, read-marker moves, membership changes, status changes of the viewer's messages, invitations to the viewer.",
    subscribe: async (_root, _args, ctx) => liveSubscription(ctx, await viewerEvents(ctx)),
    resolve: (event, _args, ctx) => resolveEvent(event, ctx),
  }),
}));
