// An unbounded push → async-iterator queue: what a subscription hands to graphql-ws.
// Pushes never block the publisher (fan-out must not wait for one slow reader).

export class AsyncQueue<T> implements AsyncIterableIterator<T> {
  private readonly items: T[] = [];
  private waiting: { resolve: (result: IteratorResult<T>) => void; reject: (error: unknown) => void } | null = null;
  private failure: unknown = null;
  private closed = false;

  /** @param onClose runs once when the reader stops (return()) or the queue is ended. */
  constructor(private readonly onClose: () => void | Promise<void> = () => {}) {}

  push(item: T): void {
    if (this.closed) return;
    if (this.waiting) {
      const { resolve } = this.waiting;
      this.waiting = null;
      resolve({ value: item, done: false });
    } else {
      this.items.push(item);
    }
  }

  /** Ends the stream with an error the reader will see after the items already queued. */
  fail(error: unknown): void {
    if (this.closed) return;
    this.failure = error;
    if (this.waiting) {
      const { reject } = this.waiting;
      this.waiting = null;
      void this.return();
      reject(error);
    }
  }

  get size(): number {
    return this.items.length;
  }

  async next(): Promise<IteratorResult<T>> {
    if (this.items.length > 0) return { value: this.items.shift() as T, done: false };
    if (this.failure) {
      const error = this.failure;
      await this.return();
      throw error;
    }
    if (this.closed) return { value: undefined, done: true };
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
    });
  }

  async return(): Promise<IteratorResult<T>> {
    if (!this.closed) {
      this.closed = true;
      this.items.length = 0;
      this.waiting?.resolve({ value: undefined, done: true });
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
