// Publishes that failed, kept to be published again, for the bus on one Redis and the bus on a
// Redis Cluster alike. Nothing is lost without them (a message is stored before it is published,
// and feeds that resubscribe read what they missed from the store), but listeners get it sooner.
import type { Logger } from '../logger.ts';

/** How many failed publishes are kept; older ones are left to the store. */
const MAX_KEPT = 10_000;
/** How soon kept publishes are tried again (again and again while the bus cannot publish). */
const RETRY_DELAY_MS = 500;

/**
 * Whether a publish that failed may be repeated once Redis is back: a channel's message carries its
 * seq, so the feeds drop a repeat and put a late one in order; a presence change carries its place
 * in the order of presence changes, so subscribers drop it when they have heard a newer one. Other
 * events (read markers, membership) are not repeated: a stale one arriving after a newer one would
 * mislead.
 */
export function isRepeatable(payload: unknown): boolean {
  if (typeof payload !== 'object' || payload === null) return false;
  if ('kind' in payload) return payload.kind === 'messageAdded';
  return 'status' in payload && 'seq' in payload && typeof payload.seq === 'number';
}

export class Unpublished<M> {
  private readonly kept: { topic: string; message: M }[] = [];
  private timer: NodeJS.Timeout | null = null;
  /** A publish failed since the last one went through: later failures are logged quietly. */
  private failing = false;
  private closed = false;

  constructor(
    private readonly bus: {
      publish(topic: string, message: M): Promise<void>;
      /** Whether a publish may go through now (the connection is up). */
      canPublish(): boolean;
      logger: Logger;
    },
  ) {}

  /** Publishes; when that fails, says so and keeps a repeatable message to try again. */
  async publish(topic: string, message: M, repeatable: boolean): Promise<void> {
    try {
      await this.bus.publish(topic, message);
      this.failing = false;
    } catch (error) {
      if (this.closed) return;
      this.bus.logger[this.failing ? 'debug' : 'warn']({ err: error, topic }, 'publish failed; subscribers will catch up');
      this.failing = true;
      if (!repeatable) return;
      this.kept.push({ topic, message });
      if (this.kept.length > MAX_KEPT) this.kept.shift();
      this.retryLater();
    }
  }

  /** Publishes again now, in their order, the messages kept (the connection is back). */
  retry(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const again = this.kept.splice(0);
    if (again.length > 0) this.bus.logger.info({ count: again.length }, 'republishing messages whose publish failed');
    for (const { topic, message } of again) void this.publish(topic, message, true);
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
  }

  /** The publish may have failed just as the connection came back: try again shortly too. */
  private retryLater(): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.bus.canPublish()) this.retry();
      else this.retryLater();
    }, RETRY_DELAY_MS);
    this.timer.unref();
  }
}
