// Following one channel from a given point: the feed is attached first, the stored messages after
// that point are read next, and live messages already read are skipped, so the follower gets
// every message once, in seq order, with no gap at the seam.
import type { Message } from '../domain/types.ts';
import type { Store } from '../store/store.ts';
import type { Sink } from './async-queue.ts';
import type { ChannelFeeds, FeedListener } from './feeds.ts';

const REPLAY_PAGE = 100;

export interface Following {
  /** Stops following (releases the feed when this was its last listener). */
  stop(): Promise<void>;
}

/** One follower of a channel: what the feed hands it goes on to `sink`, each message once. */
class Follower implements FeedListener, Following {
  /** seq of the last message handed on (-1: none yet, following from now). */
  private sent: number;
  /** Live messages that arrived while the stored ones were being read. */
  private pending: Message[] | null;
  private stopped = false;

  constructor(
    private readonly feeds: ChannelFeeds,
    private readonly channelId: string,
    afterSeq: number | null,
    private readonly sink: Sink<Message>,
  ) {
    this.sent = afterSeq ?? -1;
    this.pending = afterSeq === null ? null : [];
  }

  push(message: Message): void {
    if (this.pending) this.pending.push(message);
    else this.take(message);
  }

  private take(message: Message): void {
    if (this.stopped || message.seq <= this.sent) return;
    this.sent = message.seq;
    this.sink.push(message);
  }

  /**
   * Hands on the stored messages after `sent`, a page at a time as the sink takes them (a client
   * catching up on a long history must not have all of it piled up at once), then the live ones
   * that came meanwhile.
   */
  async replay(store: Store): Promise<void> {
    for (;;) {
      const page = await store.findMessagesByChannel(this.channelId, { afterSeq: this.sent, limit: REPLAY_PAGE });
      for (const message of page) this.take(message);
      if (page.length < REPLAY_PAGE || this.stopped) break;
      await this.sink.ready?.();
    }
    const pending = this.pending ?? [];
    this.pending = null;
    for (const message of pending) this.take(message);
  }

  async stop(): Promise<void> {
    this.stopped = true; // synchronously: nothing reaches the sink once it has stopped
    await this.feeds.detach(this.channelId, this);
  }
}

/**
 * Hands `sink` each message of the channel after `afterSeq` (stored ones first), or, with
 * afterSeq null, each message from now on. A failed history read goes to `onError`.
 */
export async function followChannel(
  feeds: ChannelFeeds,
  store: Store,
  channelId: string,
  afterSeq: number | null,
  sink: Sink<Message>,
  onError: (error: unknown) => void,
): Promise<Following> {
  const follower = new Follower(feeds, channelId, afterSeq, sink);
  await feeds.attach(channelId, follower);
  if (afterSeq !== null) {
    follower.replay(store).catch((error: unknown) => {
      // Going on live would leave a gap: the follower stops, and the caller hears why.
      void follower.stop();
      onError(error);
    });
  }
  return follower;
}
