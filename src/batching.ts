// Calls that many requests make at once (a user provisioned, a device recorded in the store and
// in Redis presence, per connection: thousands per second when clients reconnect together) are
// sent together: everything added in one turn of the event loop is one call to the store or to
// Redis, one unit of work instead of hundreds.

class Batch<T, R> {
  readonly items: T[] = [];
  sent = false;
  /** Settles with every item's result once the batch is sent and answered. */
  readonly answered: Promise<readonly R[] | void>;
  settle!: (call: Promise<readonly R[] | void>) => void;

  constructor() {
    this.answered = new Promise((resolve) => (this.settle = resolve));
  }
}

/** Collects items and sends them in one call per turn of the event loop (at most `max` per call). */
export class TurnBatch<T, R = void> {
  private open: Batch<T, R> | null = null;

  constructor(
    private readonly send: (items: readonly T[]) => Promise<readonly R[] | void>,
    private readonly max = 500,
  ) {}

  /** Resolves with the item's result once its batch is answered; rejects if that call failed. */
  add(item: T): Promise<R> {
    let batch = this.open;
    if (!batch) {
      const created = new Batch<T, R>();
      setImmediate(() => this.sendBatch(created));
      this.open = batch = created;
    }
    const index = batch.items.push(item) - 1;
    // A full batch is sent as it is; the next item starts another.
    if (batch.items.length >= this.max) this.sendBatch(batch);
    return batch.answered.then((results) => results?.[index] as R);
  }

  /** Sends what has been added so far now: a call made right after reaches the same connection after it. */
  flush(): void {
    if (this.open) this.sendBatch(this.open);
  }

  private sendBatch(batch: Batch<T, R>): void {
    if (this.open === batch) this.open = null;
    if (batch.sent) return;
    batch.sent = true;
    batch.settle(this.send(batch.items));
  }
}
