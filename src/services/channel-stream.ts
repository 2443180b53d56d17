// messageAdded: a channel's messages in seq order, each exactly once. With afterSeq it replays
// every stored message after it, then continues live, with no gap and no duplicate (followChannel).
import type { RequestContext } from '../context.ts';
import { idOf } from '../domain/ids.ts';
import type { Message } from '../domain/types.ts';
import { AppError } from '../errors.ts';
import { AsyncQueue, type LiveStream } from '../realtime/async-queue.ts';
import { topics } from '../realtime/events.ts';
import { type Following, followChannel } from '../realtime/follow.ts';
import { requireChannelMember } from './access.ts';

/** The viewer's stream of one channel's messages (members only, for as long as they are members). */
export async function channelMessages(
  ctx: RequestContext,
  input: { channelId: string; afterSeq?: number | null },
): Promise<LiveStream<Message | Error>> {
  const channelId = idOf('Channel', input.channelId, 'channelId');
  if (input.afterSeq != null && (!Number.isInteger(input.afterSeq) || input.afterSeq < 0)) {
    throw AppError.badInput('afterSeq', 'afterSeq must be 0 or more');
  }
  await requireChannelMember(ctx, channelId);

  let following: Following | null = null;
  let stopWatching: () => Promise<void> = async () => {};
  // An Error item ends the stream: the subscription reports it to the client as the last event.
  const queue = new AsyncQueue<Message | Error>(async () => {
    await Promise.all([following?.stop(), stopWatching()]);
  });
  const end = (error: Error) => {
    queue.push(error);
    queue.end();
  };
  // Leaving the channel (on any device, any process) ends the stream.
  stopWatching = await ctx.deps.bus.subscribe(topics.user(ctx.viewer.id), (event) => {
    if (event.kind === 'membership' && event.channelId === channelId && !event.joined) {
      void following?.stop();
      end(AppError.forbidden('You left the channel: its messages are for members only'));
    }
  });
  following = await followChannel(
    ctx.deps.feeds,
    ctx.deps.store,
    channelId,
    input.afterSeq ?? null,
    queue,
    (error) => end(error instanceof Error ? error : new Error(String(error))),
  );
  return queue;
}
