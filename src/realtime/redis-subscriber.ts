// The subscriber connection as graphql-redis-subscriptions' RedisPubSub drives it. RedisPubSub sends
// a SUBSCRIBE for each new topic, and for each topic let go an UNSUBSCRIBE and a PUNSUBSCRIBE whose
// replies nobody awaits: one that fails because the connection is closing surfaces as an unhandled
// rejection, and each is a write to Redis of its own (thousands a second when clients connect
// together, each viewer subscribing to its own topic). Given this instead, the commands asked in
// one turn of the event loop go to Redis together, in the order asked, and every reply is handled.
import type { Redis } from 'ioredis';
import { TurnBatch } from '../batching.ts';
import type { Logger } from '../logger.ts';

type Change = { subscribe: boolean; topic: string };

export class SubscriberConnection {
  private readonly changes = new TurnBatch<Change, Error | null>((changes) => this.send(changes), 1000);

  constructor(
    private readonly client: Redis,
    private readonly logger: Logger,
  ) {}

  on(event: string, listener: (...args: any[]) => void): this {
    this.client.on(event, listener);
    return this;
  }

  subscribe(topic: string, done: (error: Error | null) => void): void {
    void this.changes.add({ subscribe: true, topic }).then(done, done);
  }

  unsubscribe(topic: string): void {
    void this.changes.add({ subscribe: false, topic }).then((error) => {
      // The topic goes with the connection anyway: a connection that closed has no subscriptions.
      if (error) this.logger.debug({ err: error, topic }, 'unsubscribe not answered');
    });
  }

  psubscribe(_pattern: string, done: (error: Error | null) => void): void {
    done(new Error('pattern subscriptions are not used'));
  }

  /** RedisPubSub sends one after every UNSUBSCRIBE; no pattern is ever subscribed here. */
  punsubscribe(): void {}

  /** Each run of the same command is one command to Redis; the runs are sent in order. */
  private async send(changes: readonly Change[]): Promise<(Error | null)[]> {
    const results: (Error | null)[] = new Array(changes.length).fill(null);
    const replies: Promise<void>[] = [];
    for (let start = 0, end = 1; start < changes.length; start = end, end = start + 1) {
      while (end < changes.length && changes[end]!.subscribe === changes[start]!.subscribe) end++;
      const topics = [...new Set(changes.slice(start, end).map((change) => change.topic))];
      const command = changes[start]!.subscribe ? this.client.subscribe(...topics) : this.client.unsubscribe(...topics);
      const [from, to] = [start, end];
      replies.push(
        command.then(
          () => undefined,
          (error: Error) => void results.fill(error, from, to),
        ),
      );
    }
    await Promise.all(replies);
    return results;
  }
}
