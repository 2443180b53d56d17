// The queries and mutations a WebSocket server is running: on shutdown, sockets close (1001) only
// once these have sent their results, so a mutation in flight is answered, not cut off.

export class RunningOperations {
  private count = 0;
  private lastFinished: (() => void) | null = null;

  get size(): number {
    return this.count;
  }

  /** Counts the operation as running until its result has been sent. */
  track<T>(result: T | Promise<T>): void {
    this.count++;
    // graphql-ws sends the result a few promise steps after it settles: a turn later it has.
    const finished = () =>
      setImmediate(() => {
        if (--this.count === 0) this.lastFinished?.();
      });
    Promise.resolve(result).then(finished, finished);
  }

  /** Resolves when none is running, or after graceMs, whichever comes first. */
  async finished(graceMs: number): Promise<void> {
    if (this.count === 0 || graceMs <= 0) return;
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      this.lastFinished = resolve;
      timer = setTimeout(resolve, graceMs);
    });
    clearTimeout(timer);
  }
}
