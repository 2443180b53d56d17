// Following one channel from a given point: the feed is attached first, the stored messages after
// that point are read next, and live messages already read are skipped, so the follower gets
// every message once, in seq order, with no gap at the seam.
import type { Message } from '../domain/types.ts';
import type { Store } from '../store/store.ts';
import type { ChannelFeeds } from './feeds.ts';

const REPLAY_PAGE = 100;

export interface Following {
  /** Stops following (releases the feed when this was its last listener). */
  stop(): Promise<void>;
}

/**
 * Hands `deliver` each message of the channel after `afterSeq` (stored ones first), or, with
 * afterSeq null, each message from now on. A failed history read goes to `onError`.
 */
export async function followChannel(
  feeds: ChannelFeeds,
  store: Store,
  channelId: string,
  afterSeq: number | null,
  deliver: (message: Message) => void,
  onError: (error: unknown) => void,
): Promise<Following> {
  let sent = afterSeq ?? -1;
  let replaying = afterSeq !== null;
  let stopped = false;
  const pending: Message[] = [];
  const take = (message: Message) => {
    if (stopped || message.seq <= sent) return;
    sent = message.seq;
    deliver(message);
  };
  const { detach } = await feeds.attach(channelId, (message) => (replaying ? pending.push(message) : take(message)));
  if (replaying) {
    void (async () => {
      try {
        for (;;) {
          const page = await store.findMessagesByChannel(channelId, { afterSeq: sent, limit: REPLAY_PAGE });
          page.forEach(take);
          if (page.length < REPLAY_PAGE || stopped) break;
        }
        replaying = false;
        pending.forEach(take);
        pending.length = 0;
      } catch (error) {
        onError(error);
      }
    })();
  }
  return {
    async stop() {
      stopped = true; // synchronously: nothing reaches the follower once it has stopped
      await detach();
    },
  };
}
