// The event bus port: publish to a topic, subscribe to a topic. In-process (the embedded
// default) or Redis (several processes); the feeds and services see only this interface.
import type { Topic } from './events.ts';

export type Unsubscribe = () => Promise<void>;

export interface EventBus {
  readonly kind: 'in-process' | 'redis' | 'redis-cluster';
  /** Publishes to every subscriber of the topic, in this process and others. */
  publish<P>(topic: Topic<P>, payload: P): Promise<void>;
  /** Calls onEvent for each payload published to the topic until the returned function is called. */
  subscribe<P>(topic: Topic<P>, onEvent: (payload: P) => void): Promise<Unsubscribe>;
  /** Calls fn whenever the bus has reconnected after an outage (events may have been lost). */
  onReconnect(fn: () => void): void;
  /** True while the bus can deliver (for /ready). */
  isHealthy(): boolean;
  close(): Promise<void>;
}

/** The bus of a single process: nothing to connect to, nothing lost. */
export class InProcessBus implements EventBus {
  readonly kind = 'in-process' as const;
  private readonly handlers = new Map<string, Set<(payload: unknown) => void>>();

  async publish<P>(topic: Topic<P>, payload: P): Promise<void> {
    const handlers = this.handlers.get(topic.name);
    if (!handlers) return;
    // Delivered after the publisher's turn, as a remote bus would, so no caller relies on re-entrancy.
    for (const handler of [...handlers]) queueMicrotask(() => handler(payload));
  }

  async subscribe<P>(topic: Topic<P>, onEvent: (payload: P) => void): Promise<Unsubscribe> {
    let handlers = this.handlers.get(topic.name);
    if (!handlers) {
      handlers = new Set();
      this.handlers.set(topic.name, handlers);
    }
    const handler = onEvent as (payload: unknown) => void;
    handlers.add(handler);
    return async () => {
      handlers.delete(handler);
      if (handlers.size === 0) this.handlers.delete(topic.name);
    };
  }

  onReconnect(): void {}

  isHealthy(): boolean {
    return true;
  }

  async close(): Promise<void> {
    this.handlers.clear();
  }
}
