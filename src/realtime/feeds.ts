// Per-process channel feeds: one bus subscription per channel however many local subscribers,
// and messages handed to them in strictly increasing seq with nothing missing. The bus may lose,
// repeat or reorder messages (Redis pub/sub is at-most-once; two processes publish out of seq
// order), so each feed keeps the last seq it delivered: a duplicate is dropped, an early message
// waits, and a gap not filled within gapFillMs is read from the store.
import DataLoader from 'dataloader';
import { sharingLoaders } from '../../loaders/index.ts';
import type { Message } from '../domain/types.ts';
import type { Logger } from '../logger.ts';
import type { Store } from '../store/store.ts';
import type { Sink } from './async-queue.ts';
import type { EventBus, Unsubscribe } from './bus.ts';
import { type MessageAdded, topics } from './events.ts';

/** Each of a channel's messages, in seq order, once. */
export type FeedListener = Sink<Message>;

/** How many messages one gap fill reads at most; a longer outage takes several reads. */
const GAP_READ_LIMIT = 500;

class ChannelFeed {
  /** seq of the last message handed to listeners; -1 until the feed knows where the channel is. */
  private lastSeq = -1;
  private readonly held = new Map<number, Message>();
  private gapTimer: NodeJS.Timeout | null = null;
  private filling = false;
  /** A catch-up was asked for while one was reading: read once more. */
  private again = false;
  private stopped = false;
  readonly listeners = new Set<FeedListener>();
  unsubscribe: Unsubscribe | null = null;
  ready: Promise<void> | null = null;

  constructor(
    readonly channelId: string,
    private readonly store: Store,
    private readonly gapFillMs: number,
    private readonly logger: Logger,
  ) {}

  /** Learns the channel's newest seq (after subscribing, so nothing published since is missed). */
  async start(newestSeq: (channelId: string) => Promise<number>): Promise<void> {
    this.lastSeq = Math.max(this.lastSeq, await newestSeq(this.channelId));
    this.drain();
  }

  /** Where this feed stands: every message up to it has been handed out. */
  get position(): number {
    return this.lastSeq;
  }

  receive(message: Message): void {
    if (this.stopped) return;
    if (this.lastSeq >= 0 && message.seq <= this.lastSeq) return; // a duplicate, or older than the feed
    this.held.set(message.seq, message);
    if (this.lastSeq >= 0) this.drain();
  }

  /** Hands out held messages while they are next in line; a gap waits, then is read. */
  private drain(): void {
    this.deliverInOrder();
    if (this.held.size > 0) this.scheduleGapFill();
    else this.clearGapTimer();
  }

  private deliverInOrder(): void {
    for (const seq of this.held.keys()) if (seq <= this.lastSeq) this.held.delete(seq);
    let next = this.held.get(this.lastSeq + 1);
    while (next) {
      this.held.delete(next.seq);
      this.lastSeq = next.seq;
      const message = next;
      sharingLoaders(() => this.handOut(message));
      next = this.held.get(this.lastSeq + 1);
    }
  }

  private handOut(message: Message): void {
    for (const listener of this.listeners) {
      try {
        listener.push(message);
      } catch (error) {
        // One listener's failure must not cost the others their message or the feed its order.
        this.logger.error({ err: error, channelId: this.channelId, seq: message.seq }, 'a feed listener failed');
      }
    }
  }

  private scheduleGapFill(): void {
    if (this.gapTimer || this.stopped) return;
    this.gapTimer = setTimeout(() => {
      this.gapTimer = null;
      void this.catchUp();
    }, this.gapFillMs);
    this.gapTimer.unref();
  }

  private clearGapTimer(): void {
    if (this.gapTimer) clearTimeout(this.gapTimer);
    this.gapTimer = null;
  }

  /**
   * Reads from the store whatever came after the last delivered seq (a gap, or an outage). A call
   * while a read is under way makes it read once more when done: what the caller knows to be
   * missing may have been stored after that read began.
   */
  async catchUp(): Promise<void> {
    if (this.stopped || this.lastSeq < 0) return;
    if (this.filling) {
      this.again = true;
      return;
    }
    this.filling = true;
    this.clearGapTimer();
    let failed = false;
    try {
      do {
        this.again = false;
        for (;;) {
          const missed = await this.store.findMessagesByChannel(this.channelId, {
            afterSeq: this.lastSeq,
            limit: GAP_READ_LIMIT,
          });
          if (this.stopped) return;
          // The store numbers messages without holes; one can only come from a write that failed
          // half-way on a store without transactions. Step over it rather than wait forever.
          const first = missed[0];
          if (first && first.seq > this.lastSeq + 1) {
            this.logger.warn({ channelId: this.channelId, from: this.lastSeq + 1, to: first.seq - 1 }, 'skipping a seq hole');
            this.lastSeq = first.seq - 1;
          }
          for (const message of missed) this.held.set(message.seq, message);
          this.deliverInOrder();
          if (missed.length < GAP_READ_LIMIT) break;
        }
      } while (this.again);
    } catch (error) {
      failed = true;
      this.logger.warn({ err: error, channelId: this.channelId }, 'gap fill failed; will retry');
    } finally {
      this.filling = false;
    }
    // Held messages still wait for a gap, or the read failed: try again after the same wait.
    if (this.held.size > 0 || failed) this.scheduleGapFill();
    else this.clearGapTimer();
  }

  stop(): void {
    this.stopped = true;
    this.clearGapTimer();
    this.held.clear();
  }
}

export class ChannelFeeds {
  private readonly feeds = new Map<string, ChannelFeed>();

  /**
   * Where channels stand, read in one store call for all feeds started in the same tick (a
   * viewerEvents stream starts one per channel of the viewer: hundreds at once). Never cached.
   */
  private readonly newestSeqs = new DataLoader<string, number>(
    async (channelIds) => {
      const channels = new Map((await this.store.findChannelsByIds(channelIds)).map((c) => [c.id, c.lastSeq]));
      return channelIds.map((id) => channels.get(id) ?? 0);
    },
    { cache: false },
  );

  constructor(
    private readonly bus: EventBus,
    private readonly store: Store,
    private readonly gapFillMs: number,
    private readonly logger: Logger,
  ) {
    // After a bus outage, every feed reads what it missed: messages were stored, not lost.
    bus.onReconnect(() => {
      for (const feed of this.feeds.values()) void feed.catchUp();
    });
  }

  /** How many channels this process listens to (one bus subscription each). */
  get size(): number {
    return this.feeds.size;
  }

  /**
   * Adds a listener to the channel's feed, starting the feed on first use. Resolves, once the
   * feed knows its position, with that position.
   */
  async attach(channelId: string, listener: FeedListener): Promise<number> {
    let feed = this.feeds.get(channelId);
    if (!feed) {
      const created = new ChannelFeed(channelId, this.store, this.gapFillMs, this.logger);
      feed = created;
      this.feeds.set(channelId, created);
      created.ready = (async () => {
        created.unsubscribe = await this.bus.subscribe(topics.channel(channelId), (event: MessageAdded) => {
          // Whatever else lands on the topic (a foreign publisher, a payload that did not parse) is ignored.
          if (event?.kind === 'messageAdded' && Number.isInteger(event.message?.seq)) created.receive(event.message);
          else this.logger.warn({ channelId }, 'ignored an event that is not a message');
        });
        await created.start((id) => this.newestSeqs.load(id));
      })();
      created.ready.catch(() => this.release(created));
    }
    feed.listeners.add(listener);
    try {
      await feed.ready;
    } catch (error) {
      feed.listeners.delete(listener);
      throw error;
    }
    return feed.position;
  }

  /** Removes a listener; the feed stops with its last listener. */
  async detach(channelId: string, listener: FeedListener): Promise<void> {
    const feed = this.feeds.get(channelId);
    if (!feed?.listeners.delete(listener)) return;
    if (feed.listeners.size === 0) await this.release(feed);
  }

  private async release(feed: ChannelFeed): Promise<void> {
    if (this.feeds.get(feed.channelId) !== feed) return;
    this.feeds.delete(feed.channelId);
    feed.stop();
    await feed.unsubscribe?.();
  }

  async close(): Promise<void> {
    for (const feed of [...this.feeds.values()]) await this.release(feed);
  }
}
