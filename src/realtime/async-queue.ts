// A push → async-iterator queue: the stream a subscription's resolver returns. Read with next()
// (GraphQL over SSE) or relayed item by item to one sink (the WebSocket's writer). Pushes never
// block the publisher (fan-out must not wait for one slow reader); a replay of history asks
// ready() between pages, so only live events can pile up.

/**
 * Where items are handed, one at a time, synchronously. An object rather than a callback: a fan-out
 * calls one per subscriber per event, and a chain of closures costs a memory read at every link.
 */
export interface Sink<T> {
  push(item: T): void;
  /** No item will follow: the stream has ended (or was stopped). */
  end?(): void;
  /** Resolves once the sink can take more without piling up: a replay of history waits for it between pages. */
  ready?(): Promise<void>;
}

/**
 * A stream of events that can be read with next(), or handed to one sink as they come (listen):
 * the WebSocket writes a subscription's events straight out, with no promise per event.
 */
export interface LiveStream<T> extends AsyncIterableIterator<T> {
  /**
   * From now on each item goes to `sink` synchronously as it is pushed (queued ones first), and
   * the sink hears when the stream ends; next() then only tells when the stream has ended.
   */
  listen(sink: Sink<T>): void;
}

export function isLiveStream(value: unknown): value is LiveStream<unknown> {
  return typeof (value as LiveStream<unknown> | null)?.listen === 'function';
}

/** Items a queue holds for its reader before it tells a pusher that asks (ready) to wait. */
const READY_BELOW = 100;

export class AsyncQueue<T> implements LiveStream<T>, Sink<T> {
  private readonly items: T[] = [];
  private waiting: ((result: IteratorResult<T>) => void) | null = null;
  /** Pushers waiting (ready) for the reader to take what is queued. */
  private readyWaiters: (() => void)[] | null = null;
  private sink: Sink<T> | null = null;
  private ending = false;
  private closed = false;

  /** @param onClose runs once when the reader stops (return()) or the queue has ended. */
  constructor(private readonly onClose: () => void | Promise<void> = () => {}) {}

  push(item: T): void {
    if (this.closed || this.ending) return;
    if (this.sink) {
      this.sink.push(item);
    } else if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = null;
      resolve({ value: item, done: false });
    } else {
      this.items.push(item);
    }
  }

  listen(sink: Sink<T>): void {
    if (this.closed) return;
    this.sink = sink;
    for (const item of this.items.splice(0)) sink.push(item);
    this.recheckReady();
    if (this.ending) void this.return();
  }

  /** Resolves once more may be pushed: the listening sink's say, or the reader has taken what is queued. */
  ready(): Promise<void> {
    if (this.sink?.ready) return this.sink.ready();
    if (this.sink || this.closed || this.items.length < READY_BELOW) return Promise.resolve();
    return new Promise((resolve) => (this.readyWaiters ??= []).push(resolve));
  }

  private recheckReady(): void {
    const waiters = this.readyWaiters;
    if (!waiters || (!this.sink && !this.closed && this.items.length >= READY_BELOW)) return;
    this.readyWaiters = null;
    for (const resolve of waiters) void this.ready().then(resolve);
  }

  /** Ends the stream once the reader has taken what is queued (a last error item, say). */
  end(): void {
    this.ending = true;
    if (this.items.length === 0 && (this.waiting || this.sink)) void this.return();
  }

  async next(): Promise<IteratorResult<T>> {
    if (this.items.length > 0) {
      const item = this.items.shift() as T;
      this.recheckReady();
      return { value: item, done: false };
    }
    if (this.ending) await this.return();
    if (this.closed) return { value: undefined, done: true };
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  async return(): Promise<IteratorResult<T>> {
    if (!this.closed) {
      this.closed = true;
      const sink = this.sink;
      this.sink = null;
      this.items.length = 0;
      this.waiting?.({ value: undefined, done: true });
      this.waiting = null;
      sink?.end?.();
      this.recheckReady();
      await this.onClose();
    }
    return { value: undefined, done: true };
  }

  async throw(error: unknown): Promise<IteratorResult<T>> {
    await this.return();
    throw error;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
