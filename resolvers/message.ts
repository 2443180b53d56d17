// Message: what was said, by whom, and how far it has reached; sendMessage and messageAdded.
import { builder } from '../src/builder.ts';
import { idOf } from '../src/domain/ids.ts';
import { AppError } from '../src/errors.ts';
import { requireChannelMember } from '../src/services/access.ts';
import { channelMessages } from '../src/services/channel-stream.ts';
import { sendMessage } from '../src/services/messages.ts';
import type { RequestContext } from '../src/context.ts';
import type { Message } from '../src/domain/types.ts';
import { ChannelRef, MessageRef, UserRef, listOfAtMost } from './refs.ts';
import { liveSubscription, resolveEvent } from './subscriptions.ts';

const MessageStatus = builder.enumType('MessageStatus', {
  values: {
    SENT: { description: 'Stored: the server has acknowledged it.' },
    DELIVERED: { description: 'Every other member has acknowledged delivery to at least one of their devices.' },
    SEEN: { description: "Every other member's read marker has passed it." },
  } as const,
});

type MessageReach = { delivered: number; read: number; others: number };

/**
 * Per request (its reach loader), one answer per message: status, deliveredCount and readCount of
 * a page of messages share 50 look-ups instead of making 150.
 */
const reachByLoader = new WeakMap<object, WeakMap<Message, Promise<MessageReach>>>();

/** How many other members the message has reached, and how many there are. */
function reachOf(ctx: RequestContext, message: Message): Promise<MessageReach> {
  let known = reachByLoader.get(ctx.loaders.reach);
  if (!known) reachByLoader.set(ctx.loaders.reach, (known = new WeakMap()));
  let reach = known.get(message);
  if (!reach) known.set(message, (reach = lookUpReach(ctx, message)));
  return reach;
}

async function lookUpReach(ctx: RequestContext, message: Message): Promise<MessageReach> {
  const [reach, channel, authorMember] = await Promise.all([
    ctx.loaders.reach.load({ channelId: message.channelId, seq: message.seq, authorId: message.authorId }),
    ctx.loaders.channels.load(message.channelId),
    ctx.loaders.channelMember.load({ channelId: message.channelId, userId: message.authorId }),
  ]);
  const others = (channel?.memberCount ?? 0) - (authorMember ? 1 : 0);
  return { ...reach, others };
}

MessageRef.implement({
  description: 'A plain-text message in a channel.',
  fields: (t) => ({
    channel: t.field({ type: ChannelRef, resolve: (message) => message.channelId }),
    seq: t.exposeInt('seq', { description: 'Position in the channel: 1, 2, 3 ... strictly increasing, assigned by the server.' }),
    author: t.field({ type: UserRef, resolve: (message) => message.authorId }),
    text: t.exposeString('text'),
    mentions: t.field({ type: [UserRef], extensions: listOfAtMost((limits) => limits.mentionsMax), resolve: (message) => message.mentions }),
    mentionsChannel: t.exposeBoolean('mentionsChannel', {
      description: 'True when the message mentions everyone in the channel (@channel).',
    }),
    sentAt: t.expose('sentAt', { type: 'DateTime' }),
    clientMessageId: t.exposeString('clientMessageId', { nullable: true }),
    status: t.field({
      type: MessageStatus,
      resolve: async (message, _args, ctx) => {
        const { delivered, read, others } = await reachOf(ctx, message);
        if (others <= 0) return 'SENT';
        if (read >= others) return 'SEEN';
        return delivered >= others ? 'DELIVERED' : 'SENT';
      },
    }),
    deliveredCount: t.int({ resolve: async (message, _args, ctx) => (await reachOf(ctx, message)).delivered }),
    readCount: t.int({ resolve: async (message, _args, ctx) => (await reachOf(ctx, message)).read }),
  }),
});

const SendMessageInput = builder.inputType('SendMessageInput', {
  fields: (t) => ({
    channelId: t.id({ required: true }),
    text: t.string({ required: true }),
    mentionIds: t.idList(),
    mentionsChannel: t.boolean(),
    clientMessageId: t.string({
      description: 'Idempotency key chosen by the client: a retry with the same key returns the stored message.',
    }),
  }),
});

builder.mutationFields((t) => ({
  sendMessage: t.field({
    type: MessageRef,
    description: "Stores and delivers a message; the sender's read marker moves to it.",
    args: { input: t.arg({ type: SendMessageInput, required: true }) },
    resolve: (_root, { input }, ctx) => sendMessage(ctx, input),
  }),
}));

builder.subscriptionFields((t) => ({
  messageAdded: t.field({
    type: MessageRef,
    description:
      'Messages of one channel, in seq order, each exactly once. With afterSeq, first every stored\n' +
      'message after that seq, then live ones, with no gap and no duplicate between the two.',
    args: { channelId: t.arg.id({ required: true }), afterSeq: t.arg.int() },
    subscribe: async (_root, args, ctx) => liveSubscription(ctx, await channelMessages(ctx, args)),
    resolve: (item, _args, ctx) => resolveEvent(item, ctx),
  }),
}));

builder.asEntity(MessageRef, {
  key: builder.selection<{ id: string }>('id'),
  resolveReference: async ({ id }, ctx) => {
    const message = await ctx.loaders.messages.load(idOf('Message', id, 'id'));
    if (!message) throw AppError.notFound('Message', 'id');
    await requireChannelMember(ctx, message.channelId, 'id');
    return message;
  },
});
