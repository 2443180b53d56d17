// An unbounded push → async-iterator queue: what a subscription hands to graphql-ws.
// Pushes never block the publisher (fan-out must not wait for one slow reader).

export class AsyncQueue<T> implements AsyncIterableIterator<T> {
  private readonly items: T[] = [];
  private waiting: ((result: IteratorResult<T>) => void) | null = null;
  private ending = false;
  private closed = false;

  /** @param onClose runs once when the reader stops (return()) or the queue has ended. */
  constructor(private readonly onClose: () => void | Promise<void> = () => {}) {}

  push(item: T): void {
    if (this.closed || this.ending) return;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = null;
      resolve({ value: item, done: false });
    } else {
      this.items.push(item);
    }
  }

  /** Ends the stream once the reader has taken what is queued (a last error item, say). */
  end(): void {
    this.ending = true;
    if (this.items.length === 0 && this.waiting) void this.return();
  }

  get size(): number {
    return this.items.length;
  }

  async next(): Promise<IteratorResult<T>> {
    if (this.items.length > 0) return { value: this.items.shift() as T, done: false };
    if (this.ending) await this.return();
    if (this.closed) return { value: undefined, done: true };
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  async return(): Promise<IteratorResult<T>> {
    if (!this.closed) {
      this.closed = true;
      this.items.length = 0;
      this.waiting?.({ value: undefined, done: true });
      this.waiting = null;
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
