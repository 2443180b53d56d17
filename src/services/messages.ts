// Use cases of messages: send one (stored, then published once to the channel's topic).
import type { RequestContext } from '../context.ts';
import { idOf, newId } from '../domain/ids.ts';
import { mentionedNames, nameKey, textMentionsChannel, validateClientMessageId, validateMessageText } from '../domain/rules.ts';
import type { Message } from '../domain/types.ts';
import { AppError } from '../errors.ts';
import { topics } from '../realtime/events.ts';
import { requireChannelMember } from './access.ts';

export interface SendMessageInput {
  channelId: string;
  text: string;
  mentionIds?: string[] | null;
  mentionsChannel?: boolean | null;
  clientMessageId?: string | null;
}

/** Mentioned users: valid ids, at most the limit, each a member of the channel. */
async function validateMentions(ctx: RequestContext, channelId: string, mentionIds: string[]): Promise<string[]> {
  const { mentionsMax } = ctx.deps.config.limits;
  // Counted before each id is decoded: the list is the client's, of any length.
  if (mentionIds.length > mentionsMax) throw AppError.badInput('mentionIds', `A message may mention at most ${mentionsMax} users`);
  const ids = [...new Set(mentionIds.map((id) => idOf('User', id, 'mentionIds')))];
  const members = await Promise.all(ids.map((userId) => ctx.loaders.channelMember.load({ channelId, userId })));
  if (members.some((member) => member === null)) {
    throw AppError.badInput('mentionIds', 'mentionIds may only name members of the channel');
  }
  return ids;
}

/**
 * Members the text mentions as @name (matched case-insensitively), in the order the text names
 * them: one store read for at most mentionsMax names. A name no member has stays plain text.
 */
async function membersMentionedByName(ctx: RequestContext, channelId: string, text: string): Promise<string[]> {
  const names = mentionedNames(text, ctx.deps.config.limits.mentionsMax);
  if (names.length === 0) return [];
  const members = await ctx.deps.store.findChannelMembersByNames(channelId, names);
  const position = new Map(names.map((name, index) => [name, index]));
  const at = (name: string) => position.get(nameKey(name)) ?? names.length;
  return members.sort((a, b) => at(a.name) - at(b.name) || a.id.localeCompare(b.id)).map((member) => member.id);
}

/**
 * Stores the message with the channel's next seq and publishes it; the sender's read marker moves
 * to it. A retry with the same clientMessageId returns the stored message (and publishes it again).
 */
export async function sendMessage(ctx: RequestContext, input: SendMessageInput): Promise<Message> {
  const channelId = idOf('Channel', input.channelId, 'channelId');
  const { channel } = await requireChannelMember(ctx, channelId);
  const text = validateMessageText(input.text, ctx.deps.config.limits, 'text');
  const clientMessageId = input.clientMessageId == null ? null : validateClientMessageId(input.clientMessageId);
  const listed = await validateMentions(ctx, channelId, input.mentionIds ?? []);
  // The ids the client listed come first; @names in the text add to them, up to the same limit.
  const byName = await membersMentionedByName(ctx, channelId, text);
  const mentions = [...new Set([...listed, ...byName])].slice(0, ctx.deps.config.limits.mentionsMax);
  await ctx.deps.rateLimits.send.take(ctx.viewer.id);
  const { message, created } = await ctx.deps.store.appendMessage({
    id: newId('msg'),
    channelId,
    authorId: ctx.viewer.id,
    text,
    mentions,
    mentionsChannel: input.mentionsChannel ?? textMentionsChannel(text),
    sentAt: new Date(),
    clientMessageId,
  });
  ctx.refreshLoaders();
  if (created) {
    ctx.deps.metrics.messagesSent.inc();
    ctx.deps.push.messageStored(channel, message);
  }
  // A retry publishes again: the first attempt may have stored the message and died before
  // publishing it. Feeds drop the copy everyone already has.
  await Promise.all([
    ctx.deps.bus.publish(topics.channel(channelId), { kind: 'messageAdded', message }),
    // The sender's other devices clear the badge: the message counts as read by its author.
    created && ctx.deps.bus.publish(topics.user(ctx.viewer.id), { kind: 'channelRead', channelId, lastReadSeq: message.seq }),
  ]);
  return message;
}
