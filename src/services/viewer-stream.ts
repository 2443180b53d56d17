// viewerEvents: everything the viewer's devices must hear about, on one stream. It listens to the
// user's own topic (read markers, membership, status) and to the feed of every channel the viewer
// belongs to; a membership event (from any device, any process) adds or drops a feed, so joining
// or leaving changes what the stream covers without reconnecting.
import type { RequestContext } from '../context.ts';
import type { Message } from '../domain/types.ts';
import { AsyncQueue } from '../realtime/async-queue.ts';
import { type UserEvent, topics } from '../realtime/events.ts';

export type ViewerEvent = UserEvent | { kind: 'messageAdded'; channelId: string; message: Message };

/** The viewer's event stream across all of their channels. */
export async function viewerEvents(ctx: RequestContext): Promise<AsyncIterableIterator<ViewerEvent>> {
  const { bus, feeds, store, logger } = ctx.deps;
  const viewerId = ctx.viewer.id;
  /** Per channel: the promise of its feed's detach function, so joins and leaves never race. */
  const attached = new Map<string, Promise<() => Promise<void>>>();
  let closed = false;
  let unsubscribe: () => Promise<void> = async () => {};

  const queue = new AsyncQueue<ViewerEvent>(async () => {
    closed = true;
    await unsubscribe();
    const detaches = await Promise.allSettled(attached.values());
    attached.clear();
    await Promise.all(detaches.map((d) => (d.status === 'fulfilled' ? d.value() : undefined)));
  });

  const follow = (channelId: string) => {
    if (closed || attached.has(channelId)) return;
    const detach = feeds
      .attach(channelId, (message) => queue.push({ kind: 'messageAdded', channelId, message }))
      .then((feed) => feed.detach);
    detach.catch((error: unknown) => {
      logger.warn({ err: error, channelId }, 'could not follow a channel');
      attached.delete(channelId);
    });
    attached.set(channelId, detach);
  };
  const unfollow = (channelId: string) => {
    const detach = attached.get(channelId);
    attached.delete(channelId);
    void detach?.then((d) => d()).catch(() => {});
  };

  // The user topic first, so a join that happens while the channel list is read is not missed.
  unsubscribe = await bus.subscribe(topics.user(viewerId), (event) => {
    if (event.kind === 'membership') {
      if (event.joined) follow(event.channelId);
      else unfollow(event.channelId);
    }
    queue.push(event);
  });
  const channelIds = await store.listChannelIdsOfUser(viewerId);
  channelIds.forEach(follow);
  await Promise.allSettled(attached.values());
  return queue;
}
