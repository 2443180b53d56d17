// Writes that many requests make at once (a user provisioned and a device recorded per connection:
// thousands per second when clients reconnect together) go to the store together: everything
// added in one turn of the event loop is one store call, one unit of work instead of hundreds.

interface Batch<T> {
  items: T[];
  written: Promise<void>;
}

/** Collects items and writes them in one call per turn of the event loop (at most `max` per call). */
export class WriteBatch<T> {
  private open: Batch<T> | null = null;

  constructor(
    private readonly write: (items: readonly T[]) => Promise<void>,
    private readonly max = 500,
  ) {}

  /** Resolves once the item is written with the others of its turn; rejects if that write failed. */
  add(item: T): Promise<void> {
    let batch = this.open;
    if (!batch) {
      const items: T[] = [];
      batch = { items, written: new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.close(items)) };
      this.open = batch;
    }
    batch.items.push(item);
    // A full batch is written as it is; the next item starts another.
    if (batch.items.length >= this.max) this.open = null;
    return batch.written;
  }

  private close(items: T[]): Promise<void> {
    if (this.open?.items === items) this.open = null;
    return this.write(items);
  }
}
