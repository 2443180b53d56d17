// What every subscription shares: each event is resolved with fresh loaders (an event must not
// see the counts cached for the one before it), and the process counts what it delivers.
import type { RequestContext } from '../src/context.ts';
import type { LiveStream, Sink } from '../src/realtime/async-queue.ts';

/**
 * A subscription's event stream, counted while it is open. A class with promise chains rather
 * than async closures: thousands of these sit idle in a process, and each closure or suspended
 * async call would cost memory per subscriber.
 */
class LiveSubscription<T> implements LiveStream<T> {
  private open = true;

  constructor(
    private readonly ctx: RequestContext,
    private readonly events: LiveStream<T>,
  ) {
    ctx.deps.metrics.subscriptions.inc();
    // What authorizing the subscription loaded is stale by the first event; an idle subscription
    // should not hold it.
    ctx.refreshLoaders();
  }

  /** Events read one by one (GraphQL over SSE): each one read is one delivered. */
  next(): Promise<IteratorResult<T>> {
    return this.events.next().then((result) => {
      if (result.done) this.close();
      else this.ctx.deps.metrics.deliveries.inc();
      return result;
    });
  }

  /** Events handed straight to the WebSocket's writer, which counts what it writes. */
  listen(sink: Sink<T>): void {
    this.events.listen(sink);
  }

  return(): Promise<IteratorResult<T>> {
    this.close();
    return this.events.return?.() ?? Promise.resolve({ value: undefined, done: true });
  }

  throw(error: unknown): Promise<IteratorResult<T>> {
    this.close();
    return this.events.throw?.(error) ?? Promise.reject(error);
  }

  private close() {
    if (this.open) this.ctx.deps.metrics.subscriptions.dec();
    this.open = false;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

/** A subscription field's `subscribe`: the stream of its events, counted while open. */
export function liveSubscription<T>(ctx: RequestContext, events: LiveStream<T>): LiveStream<T> {
  return new LiveSubscription(ctx, events);
}

/**
 * A subscription field's `resolve`: each event starts a new loader cache (the root field is the
 * first thing resolved for an event), and an Error item is the stream's last word, reported to
 * the client.
 */
export function resolveEvent<T>(item: T | Error, ctx: RequestContext): T {
  ctx.refreshLoaders();
  if (item instanceof Error) throw item;
  return item;
}
