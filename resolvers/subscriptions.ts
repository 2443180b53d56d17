// What every subscription shares: each event is resolved with fresh loaders (an event must not
// see the counts cached for the one before it), and the process counts what it delivers.
import type { RequestContext } from '../src/context.ts';

/** Wraps a subscription's event stream so each event starts a new loader cache. */
export function eachEventFresh<T>(ctx: RequestContext, events: AsyncIterableIterator<T>): AsyncIterableIterator<T> {
  const { metrics } = ctx.deps;
  metrics.subscriptions.inc();
  let open = true;
  const done = () => {
    if (open) metrics.subscriptions.dec();
    open = false;
  };
  return {
    async next() {
      const result = await events.next();
      if (result.done) done();
      else {
        ctx.refreshLoaders();
        metrics.deliveries.inc();
      }
      return result;
    },
    async return() {
      done();
      return (await events.return?.()) ?? { value: undefined, done: true };
    },
    async throw(error: unknown) {
      done();
      if (events.throw) return events.throw(error);
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/** A stream item that is an Error is the stream's last word: resolving it reports it to the client. */
export function orThrow<T>(item: T | Error): T {
  if (item instanceof Error) throw item;
  return item;
}
