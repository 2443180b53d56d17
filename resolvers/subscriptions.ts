// What every subscription shares: each event is resolved with fresh loaders (an event must not
// see the counts cached for the one before it), and the process counts what it delivers.
import type { RequestContext } from '../src/context.ts';

/**
 * A subscription's event stream that renews the context's loaders before each event. A class
 * with promise chains rather than async closures: thousands of these sit idle in a process,
 * and each closure or suspended async call would cost memory per subscriber.
 */
class FreshEvents<T> implements AsyncIterableIterator<T> {
  private open = true;

  constructor(
    private readonly ctx: RequestContext,
    private readonly events: AsyncIterableIterator<T>,
  ) {
    ctx.deps.metrics.subscriptions.inc();
    // What authorizing the subscription loaded is stale by the first event; an idle subscription
    // should not hold it.
    ctx.refreshLoaders();
  }

  next(): Promise<IteratorResult<T>> {
    return this.events.next().then((result) => {
      if (result.done) this.close();
      else {
        this.ctx.refreshLoaders();
        this.ctx.deps.metrics.deliveries.inc();
      }
      return result;
    });
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

/** Wraps a subscription's event stream so each event starts a new loader cache. */
export function eachEventFresh<T>(ctx: RequestContext, events: AsyncIterableIterator<T>): AsyncIterableIterator<T> {
  return new FreshEvents(ctx, events);
}

/** A stream item that is an Error is the stream's last word: resolving it reports it to the client. */
export function orThrow<T>(item: T | Error): T {
  if (item instanceof Error) throw item;
  return item;
}
