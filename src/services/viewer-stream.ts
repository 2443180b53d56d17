// viewerEvents: everything the viewer's devices must hear about, on one stream. It listens to the
// user's own topic (read markers, membership, status) and follows every channel the viewer belongs
// to; a membership event (from any device, any process) starts or stops following a channel, so
// joining or leaving changes what the stream covers without reconnecting.
import type { RequestContext } from '../context.ts';
import type { Message } from '../domain/types.ts';
import { AsyncQueue, type LiveStream } from '../realtime/async-queue.ts';
import { type UserEvent, topics } from '../realtime/events.ts';
import { type Following, followChannel } from '../realtime/follow.ts';

export type ViewerEvent = UserEvent | { kind: 'messageAdded'; channelId: string; message: Message };

/**
 * One event object per message for every stream of the process: the WebSocket produces an event
 * once for all subscribers that get the same object (src/delivery/group.ts).
 */
const messageEvents = new WeakMap<Message, ViewerEvent>();

function messageAddedEvent(channelId: string, message: Message): ViewerEvent {
  let event = messageEvents.get(message);
  if (!event) messageEvents.set(message, (event = { kind: 'messageAdded', channelId, message }));
  return event;
}

/** The viewer's event stream across all of their channels. */
export async function viewerEvents(ctx: RequestContext): Promise<LiveStream<ViewerEvent>> {
  const { bus, feeds, store, logger } = ctx.deps;
  const viewerId = ctx.viewer.id;
  /** Per channel, what follows it; a promise, so a join and a leave in quick succession never race. */
  const followed = new Map<string, Promise<Following | null>>();
  let closed = false;
  let unsubscribe: () => Promise<void> = async () => {};

  const queue = new AsyncQueue<ViewerEvent>(async () => {
    closed = true;
    await unsubscribe();
    const all = await Promise.all(followed.values());
    followed.clear();
    await Promise.all(all.map((following) => following?.stop()));
  });

  /** Follows a channel from now on, or from fromSeq (a join: nothing sent since is missed). */
  const follow = (channelId: string, fromSeq: number | null) => {
    if (closed || followed.has(channelId)) return;
    const onError = (error: unknown) => logger.warn({ err: error, channelId }, 'could not read a joined channel');
    const sink = {
      push(message: Message) {
        // A leave takes effect at once, even for a message that arrived in the same read.
        if (followed.get(channelId) === following) queue.push(messageAddedEvent(channelId, message));
      },
    };
    const following: Promise<Following | null> = followChannel(feeds, store, channelId, fromSeq, sink, onError).catch(
      (error: unknown) => {
        logger.warn({ err: error, channelId }, 'could not follow a channel');
        followed.delete(channelId);
        return null;
      },
    );
    followed.set(channelId, following);
  };
  const unfollow = (channelId: string) => {
    const following = followed.get(channelId);
    followed.delete(channelId);
    void following?.then((f) => f?.stop());
  };

  // The user topic first, so a join that happens while the channel list is read is not missed.
  unsubscribe = await bus.subscribe(topics.user(viewerId), (event) => {
    if (event.kind === 'membership') {
      if (event.joined) follow(event.channelId, event.fromSeq ?? null);
      else unfollow(event.channelId);
    }
    queue.push(event);
  });
  const channelIds = await store.listChannelIdsOfUser(viewerId);
  for (const channelId of channelIds) follow(channelId, null);
  await Promise.all(followed.values());
  return queue;
}
