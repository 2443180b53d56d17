// The operations of one WebSocket connection start in the order the client sent them. graphql-ws
// handles each message as it comes, so a query or mutation sent right after a subscription could
// run before the subscription listened: "subscribe, then read what came before (or send)" would
// leave a gap between what the read saw and what the subscription delivers.

/**
 * How long an operation waits for the one sent before it to start: a subscription that cannot
 * listen (Redis away) must not hold up the connection's other operations for longer than this.
 */
const WAIT_MS = 5000;

/** A connection's place in line. */
export interface InOrder {
  /** Resolves once the operation the client sent last has started (a subscription: listens). */
  lastStarted: Promise<void>;
}

/** Where every connection starts: nothing before it (one promise for all of them). */
export const NOTHING_BEFORE: Promise<void> = Promise.resolve();

/**
 * Prepares an operation once the connection's previous one has started (or WAIT_MS has passed),
 * handing `prepare` the function that says this one has started. When `prepare` answers with
 * errors (nothing will start) or throws, that is said for it.
 */
export async function inOrder<T>(connection: InOrder, prepare: (started: () => void) => Promise<T>): Promise<T> {
  const before = connection.lastStarted;
  let started!: () => void;
  connection.lastStarted = new Promise<void>((resolve) => (started = resolve));
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([before, new Promise<void>((resolve) => (timer = setTimeout(resolve, WAIT_MS)))]);
  clearTimeout(timer);
  try {
    const prepared = await prepare(started);
    if (Array.isArray(prepared)) started();
    return prepared;
  } catch (error) {
    started();
    throw error;
  }
}
