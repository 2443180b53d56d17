// The event bus on Redis pub/sub (graphql-redis-subscriptions' RedisPubSub over two ioredis
// connections: a subscribed connection cannot publish). Redis pub/sub is at-most-once; the
// channel feeds make delivery gap-free, and read what was missed when the bus reconnects.
import { RedisPubSub } from 'graphql-redis-subscriptions';
import { Redis } from 'ioredis';
import type { Logger } from '../logger.ts';
import type { EventBus, Unsubscribe } from './bus.ts';
import type { Topic } from './events.ts';

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

export class RedisBus implements EventBus {
  readonly kind = 'redis' as const;
  private readonly pubsub: RedisPubSub;
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private readonly reconnectListeners: (() => void)[] = [];
  private wasDown = false;

  private constructor(url: string, private readonly logger: Logger) {
    const options = {
      // Fail a publish at once while Redis is down (the message is stored; feeds catch up later)
      // rather than queue it and hold up the sender's mutation.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      retryStrategy: (attempt: number) => Math.min(50 * attempt, 1000),
      lazyConnect: true,
    };
    this.publisher = new Redis(url, options);
    // The subscriber queues its SUBSCRIBEs until connected, and ioredis resubscribes after a reconnect.
    this.subscriber = new Redis(url, { ...options, enableOfflineQueue: true, maxRetriesPerRequest: null });
    this.pubsub = new RedisPubSub({
      publisher: this.publisher,
      subscriber: this.subscriber,
      serializer: serialize,
      deserializer: (text) => deserialize(text.toString()) as Record<string, unknown>,
    });
    for (const client of [this.publisher, this.subscriber]) {
      client.on('error', (error) => logger.debug({ err: error }, 'redis connection error'));
      client.on('close', () => {
        if (!this.wasDown) logger.warn('redis connection lost; reconnecting');
        this.wasDown = true;
      });
    }
    this.subscriber.on('ready', () => {
      if (!this.wasDown) return;
      this.wasDown = false;
      logger.info('redis reconnected; channel feeds catch up from the store');
      for (const listener of this.reconnectListeners) listener();
    });
  }

  /** Connects both connections; fails fast with a clear message when Redis cannot be reached. */
  static async connect(url: string, logger: Logger): Promise<RedisBus> {
    const bus = new RedisBus(url, logger);
    try {
      await Promise.all([bus.publisher.connect(), bus.subscriber.connect()]);
    } catch (error) {
      bus.publisher.disconnect();
      bus.subscriber.disconnect();
      const where = new URL(url);
      throw new Error(`cannot reach Redis at ${where.host}: ${(error as Error).message}`);
    }
    return bus;
  }

  async publish<P>(topic: Topic<P>, payload: P): Promise<void> {
    try {
      await this.pubsub.publish(topic.name, payload);
    } catch (error) {
      // The event is lost for now; subscribers get it from the store (gap fill or catch-up).
      this.logger.warn({ err: error, topic: topic.name }, 'publish failed; subscribers will catch up');
    }
  }

  async subscribe<P>(topic: Topic<P>, onEvent: (payload: P) => void): Promise<Unsubscribe> {
    const id = await this.pubsub.subscribe(topic.name, onEvent);
    return async () => this.pubsub.unsubscribe(id);
  }

  onReconnect(fn: () => void): void {
    this.reconnectListeners.push(fn);
  }

  isHealthy(): boolean {
    return this.publisher.status === 'ready' && this.subscriber.status === 'ready';
  }

  async close(): Promise<void> {
    this.publisher.disconnect();
    this.subscriber.disconnect();
  }
}
