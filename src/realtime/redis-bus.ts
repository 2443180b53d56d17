// The event bus on Redis pub/sub (graphql-redis-subscriptions' RedisPubSub over two ioredis
// connections: a subscribed connection cannot publish). Redis pub/sub is at-most-once; the
// channel feeds make delivery gap-free, and read what was missed when the bus reconnects.
import { RedisPubSub } from 'graphql-redis-subscriptions';
import { Redis } from 'ioredis';
import type { Logger } from '../logger.ts';
import type { EventBus, Unsubscribe } from './bus.ts';
import type { Topic } from './events.ts';
import { SubscriberConnection } from './redis-subscriber.ts';
import { Unpublished, isRepeatable } from './unpublished.ts';

/** JSON that keeps Dates: a Date becomes {"$date": ms} (a text that looks like a date stays text). */
export function serialize(payload: unknown): string {
  return JSON.stringify(payload, function replace(this: Record<string, unknown>, key, value) {
    const raw = this[key];
    return raw instanceof Date ? { $date: raw.getTime() } : value;
  });
}

export function deserialize(text: string): unknown {
  return JSON.parse(text, (_key, value) => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const keys = Object.keys(value);
      if (keys.length === 1 && keys[0] === '$date' && typeof value.$date === 'number') return new Date(value.$date);
    }
    return value;
  });
}

/** A connection error in words: the usual network causes by their code, else the error's message. */
export function connectionFailure(error: Error): string {
  const reasons: Record<string, string> = {
    ECONNREFUSED: 'connection refused (nothing listens there)',
    ENOTFOUND: 'host not found',
    EAI_AGAIN: 'host name lookup failed',
    ETIMEDOUT: 'connection timed out',
    EHOSTUNREACH: 'host unreachable',
    ECONNRESET: 'connection reset',
  };
  const code = (error as NodeJS.ErrnoException).code;
  return (code && reasons[code]) || error.message;
}

export class RedisBus implements EventBus {
  readonly kind = 'redis' as const;
  private readonly pubsub: RedisPubSub;
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private readonly reconnectListeners: (() => void)[] = [];
  /** Per connection: it was lost, and what depends on it being back has not run yet. */
  private publisherLost = false;
  private subscriberLost = false;
  /** Messages whose publish failed while Redis was down, republished when the publisher is back. */
  private readonly unpublished: Unpublished<unknown>;
  private closing = false;
  /** connect() succeeded: from now on a lost connection is reconnected. */
  private connected = false;

  private constructor(url: string, private readonly logger: Logger) {
    const options = {
      // Fail a publish at once while Redis is down (the message is stored; feeds catch up later)
      // rather than queue it and hold up the sender's mutation.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      retryStrategy: (attempt: number) => Math.min(50 * attempt, 1000),
      lazyConnect: true,
    };
    // Publishes issued in one turn of the event loop go out in one write: a syscall per command
    // costs more CPU than the command itself when many sends arrive together.
    this.publisher = new Redis(url, { ...options, enableAutoPipelining: true });
    // The subscriber queues its SUBSCRIBEs until connected, and ioredis resubscribes after a reconnect.
    this.subscriber = new Redis(url, { ...options, enableOfflineQueue: true, maxRetriesPerRequest: null });
    this.pubsub = new RedisPubSub({
      publisher: this.publisher,
      // RedisPubSub uses only on(), (un)subscribe() and p(un)subscribe() of its subscriber.
      subscriber: new SubscriberConnection(this.subscriber, logger) as unknown as Redis,
      serializer: serialize,
      deserializer: (text) => deserialize(text.toString()) as Record<string, unknown>,
    });
    this.unpublished = new Unpublished({
      publish: (topic, payload) => this.pubsub.publish(topic, payload),
      canPublish: () => this.publisher.status === 'ready',
      logger,
    });
    for (const client of [this.publisher, this.subscriber]) {
      client.on('error', (error) => logger.debug({ err: error }, 'redis connection error'));
    }
    this.publisher.on('close', () => this.lost('publisher'));
    this.subscriber.on('close', () => this.lost('subscriber'));
    this.publisher.on('ready', () => {
      if (!this.publisherLost) return;
      this.publisherLost = false;
      this.unpublished.retry();
      this.logIfBack();
    });
    this.subscriber.on('ready', () => {
      if (!this.subscriberLost) return;
      // ioredis emits 'ready' before it sends the SUBSCRIBEs again. A PING queued behind them is
      // answered once they are in force; only then may the feeds read what they missed, or a
      // message published between the read and the resubscription would be lost.
      setImmediate(() => {
        this.subscriber.ping().then(
          () => {
            if (!this.subscriberLost || this.subscriber.status !== 'ready') return;
            this.subscriberLost = false;
            this.logIfBack();
            for (const listener of this.reconnectListeners) listener();
          },
          () => {}, // lost again before answering: the next 'ready' tries again
        );
      });
    });
  }

  /** Connects both connections; fails fast, saying why, when Redis cannot be reached. */
  static async connect(url: string, logger: Logger): Promise<RedisBus> {
    const bus = new RedisBus(url, logger);
    // connect() itself only says "Connection is closed."; the cause came as an 'error' event before.
    let cause: Error | undefined;
    const remember = (error: Error) => (cause ??= error);
    bus.publisher.on('error', remember);
    bus.subscriber.on('error', remember);
    try {
      await Promise.all([bus.publisher.connect(), bus.subscriber.connect()]);
    } catch (error) {
      bus.closing = true;
      bus.publisher.disconnect();
      bus.subscriber.disconnect();
      const where = new URL(url);
      throw new Error(`cannot reach Redis at ${where.hostname}:${where.port || 6379}: ${connectionFailure(cause ?? (error as Error))}`);
    } finally {
      bus.publisher.off('error', remember);
      bus.subscriber.off('error', remember);
    }
    bus.connected = true;
    return bus;
  }

  private lost(connection: 'publisher' | 'subscriber'): void {
    // Before connect() has succeeded there is nothing to reconnect: start-up fails instead.
    if (this.closing || !this.connected) return;
    if (!this.publisherLost && !this.subscriberLost) this.logger.warn({ connection }, 'redis connection lost; reconnecting');
    if (connection === 'publisher') this.publisherLost = true;
    else this.subscriberLost = true;
  }

  private logIfBack(): void {
    if (!this.publisherLost && !this.subscriberLost) this.logger.info('redis reconnected; channel feeds catch up from the store');
  }

  async publish<P>(topic: Topic<P>, payload: P): Promise<void> {
    await this.unpublished.publish(topic.name, payload, isRepeatable(payload));
  }

  async subscribe<P>(topic: Topic<P>, onEvent: (payload: P) => void): Promise<Unsubscribe> {
    const id = await this.pubsub.subscribe(topic.name, onEvent);
    let subscribed = true;
    return async () => {
      if (!subscribed) return;
      subscribed = false;
      try {
        this.pubsub.unsubscribe(id);
      } catch (error) {
        this.logger.debug({ err: error, topic: topic.name }, 'unsubscribe of an unknown subscription');
      }
    };
  }

  onReconnect(fn: () => void): void {
    this.reconnectListeners.push(fn);
  }

  isHealthy(): boolean {
    return this.publisher.status === 'ready' && this.subscriber.status === 'ready';
  }

  async close(): Promise<void> {
    this.closing = true;
    this.unpublished.close();
    // Feeds closing just before sent UNSUBSCRIBEs whose promises nobody holds: a PING behind them
    // is answered after them, so none is still waiting (and rejected unhandled) when the socket goes.
    if (this.subscriber.status === 'ready') await this.subscriber.ping().catch(() => undefined);
    this.publisher.disconnect();
    this.subscriber.disconnect();
  }
}
