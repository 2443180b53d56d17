// messageAdded: a channel's messages in seq order, each exactly once. With afterSeq it replays
// every stored message after it, then continues live: the feed is attached first, history is
// read next, and live messages already sent from history are skipped, so there is no gap and
// no duplicate across the seam.
import type { RequestContext } from '../context.ts';
import { idOf } from '../domain/ids.ts';
import type { Message } from '../domain/types.ts';
import { AppError } from '../errors.ts';
import { AsyncQueue } from '../realtime/async-queue.ts';
import { topics } from '../realtime/events.ts';
import { requireChannelMember } from './access.ts';

const REPLAY_PAGE = 100;

/** The viewer's stream of one channel's messages (members only). */
export async function channelMessages(
  ctx: RequestContext,
  input: { channelId: string; afterSeq?: number | null },
): Promise<AsyncIterableIterator<Message | Error>> {
  const channelId = idOf('Channel', input.channelId, 'channelId');
  if (input.afterSeq != null && (!Number.isInteger(input.afterSeq) || input.afterSeq < 0)) {
    throw AppError.badInput('afterSeq', 'afterSeq must be 0 or more');
  }
  await requireChannelMember(ctx, channelId);
  const { feeds, store } = ctx.deps;

  let sent = input.afterSeq ?? -1;
  let replaying = input.afterSeq != null;
  const pending: Message[] = [];
  let detach: () => Promise<void> = async () => {};
  let stopWatching: () => Promise<void> = async () => {};
  // An Error item ends the stream: the subscription reports it to the client as the last event.
  const queue = new AsyncQueue<Message | Error>(async () => {
    await Promise.all([detach(), stopWatching()]);
  });
  // Members only, for as long as the stream lasts: leaving the channel (on any device) ends it.
  stopWatching = await ctx.deps.bus.subscribe(topics.user(ctx.viewer.id), (event) => {
    if (event.kind === 'membership' && event.channelId === channelId && !event.joined) {
      queue.push(AppError.forbidden('You left the channel: its messages are for members only'));
      queue.end();
    }
  });
  const deliver = (message: Message) => {
    if (message.seq <= sent) return;
    sent = message.seq;
    queue.push(message);
  };
  ({ detach } = await feeds.attach(channelId, (message) => (replaying ? pending.push(message) : deliver(message))));

  if (replaying) {
    void (async () => {
      try {
        for (;;) {
          const page = await store.findMessagesByChannel(channelId, { afterSeq: sent, limit: REPLAY_PAGE });
          page.forEach(deliver);
          if (page.length < REPLAY_PAGE) break;
        }
        replaying = false;
        pending.forEach(deliver);
        pending.length = 0;
      } catch (error) {
        queue.push(error instanceof Error ? error : new Error(String(error)));
        queue.end();
      }
    })();
  }
  return queue;
}
