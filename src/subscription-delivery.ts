// Subscription events over the WebSocket, written straight to the socket. A channel feed hands
// each message to every local subscriber in one synchronous loop; each subscriber's frame is
// written in that loop, with no promise, queue or JSON.stringify per subscriber:
// - a document that selects nothing depending on who asks (no field marked `viewerSpecific`) is
//   executed once per event for all subscribers with the same document and variables (a share
//   group), and its result serialized once;
// - a document that does select such fields (unread counts, a DIRECT channel's name, ...) is
//   executed per subscriber, with the subscriber's own context;
// - each frame is the operation's id around those serialized bytes, exactly what graphql-ws
//   would send: {"id":"…","type":"next","payload":{…}}.
import {
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type GraphQLError,
  type GraphQLSchema,
  TypeInfo,
  createSourceEventStream,
  execute,
  visit,
  visitWithTypeInfo,
} from 'graphql';
import { WebSocket } from 'ws';
import { type LiveStream, type Sink, isLiveStream } from './realtime/async-queue.ts';

type MaskError = (error: unknown, message: string) => Error;

/** The `payload` of a next message as JSON, followed by the `}` that closes the frame. */
type Payload = Buffer;

/** graphql-ws messages are text frames (ws sends a Buffer as binary unless told). */
const TEXT = { binary: false } as const;

/** WebSocket close code 1013: graphql-ws clients reconnect after it. */
const TRY_AGAIN_LATER = 1013;

/** How often a replay waiting for a socket to drain looks again. */
const DRAIN_CHECK_MS = 10;

/** Executes a subscription document for one event and serializes the result. */
type Run = (args: ExecutionArgs, event: unknown) => Payload | Promise<Payload>;

/** What every subscription of the process shares: how to run a document, the share groups, the counters. */
interface Delivery {
  run: Run;
  leave(group: ShareGroup): void;
  delivered(): void;
  backlogMaxBytes: number;
}

export interface DeliveryOptions {
  maskError: MaskError;
  /** Bytes a socket may have waiting before it is closed as too slow. */
  backlogMaxBytes: number;
  /** Counts each execution of a document for an event (shared or not). */
  executed(): void;
  /** Counts each frame written. */
  delivered(): void;
}

/** Where one subscription's frames go: its socket, and the operation id the client chose. */
export interface SubscriptionTarget {
  socket: WebSocket;
  id: string;
}

/** True when no field the document selects depends on the viewer. */
function selectsOnlyShared(schema: GraphQLSchema, document: DocumentNode): boolean {
  const typeInfo = new TypeInfo(schema);
  let shared = true;
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field() {
        if (typeInfo.getFieldDef()?.extensions?.viewerSpecific) shared = false;
      },
    }),
  );
  return shared;
}

/**
 * Subscribers of one viewer-independent document with the same variables: they get the same
 * bytes for the same event. Events reach all of a feed's subscribers before the next event, so
 * remembering the last event is enough.
 */
class ShareGroup {
  subscribers = 0;
  private lastEvent: unknown = undefined;
  private lastPayload: Payload | Promise<Payload> | null = null;

  constructor(
    readonly document: DocumentNode,
    readonly key: string,
  ) {}

  /** The event's payload: computed by the first subscriber to ask (with its arguments), then reused. */
  payloadOf(event: unknown, args: ExecutionArgs, run: Run): Payload | Promise<Payload> {
    // Only an object is one event: equal primitives may be different events.
    if (event === this.lastEvent && typeof event === 'object' && event !== null) return this.lastPayload!;
    this.lastEvent = event;
    this.lastPayload = run(args, event);
    return this.lastPayload;
  }
}

const DONE: IteratorResult<ExecutionResult> = Object.freeze({ value: undefined, done: true });

/**
 * One subscription over the WebSocket. graphql-ws iterates it: it yields nothing and ends when the
 * events end (once the last frame is out); return() (the client's complete, or the socket closing)
 * stops the events. Meanwhile the events are pushed to it and each is written as a frame, in order:
 * a result computed synchronously is written at once; only while an earlier one is still being
 * computed do later ones wait in line. One object per subscriber on the fan-out's path.
 */
class SocketSubscription implements AsyncIterableIterator<ExecutionResult>, Sink<unknown> {
  private readonly socket: WebSocket;
  /** The start of every frame: the operation's id; and its length in bytes. */
  private readonly prefix: string;
  private readonly prefixBytes: number;
  private pending: Promise<void> | null = null;
  private ended: Promise<IteratorResult<ExecutionResult>> | null = null;
  private resolveEnded: ((result: IteratorResult<ExecutionResult>) => void) | null = null;
  private done = false;

  constructor(
    private readonly events: LiveStream<unknown>,
    private readonly args: ExecutionArgs,
    target: SubscriptionTarget,
    private readonly delivery: Delivery,
    /** Subscribers that get the same bytes for the same event; null when the document is viewer-specific. */
    private readonly group: ShareGroup | null,
  ) {
    this.socket = target.socket;
    this.prefix = `{"id":${JSON.stringify(target.id)},"type":"next","payload":`;
    this.prefixBytes = Buffer.byteLength(this.prefix);
  }

  push(event: unknown): void {
    const { args, delivery, group } = this;
    const payload = group ? group.payloadOf(event, args, delivery.run) : delivery.run(args, event);
    if (this.pending === null && !(payload instanceof Promise)) return this.write(payload);
    const before = this.pending;
    const pending: Promise<void> = (before ? before.then(() => payload) : Promise.resolve(payload)).then((bytes) => {
      this.write(bytes);
      if (this.pending === pending) this.pending = null;
    });
    this.pending = pending;
  }

  private write(payload: Payload): void {
    const { socket, prefixBytes } = this;
    if (socket.readyState !== WebSocket.OPEN) return;
    const frame = Buffer.allocUnsafe(prefixBytes + payload.length);
    frame.write(this.prefix, 0, prefixBytes);
    payload.copy(frame, prefixBytes);
    socket.send(frame, TEXT);
    this.delivery.delivered();
    // A client this far behind (a stalled phone) is better off reconnecting and resuming with
    // afterSeq than the server holding an ever longer backlog for it.
    if (socket.bufferedAmount > this.delivery.backlogMaxBytes) socket.close(TRY_AGAIN_LATER, 'too far behind: reconnect and resume with afterSeq');
  }

  /**
   * Resolves once the frames handed over so far are written and the socket's backlog is down to a
   * quarter of the limit (or the socket is gone).
   */
  ready(): Promise<void> {
    const { socket } = this;
    const drained = () => socket.readyState !== WebSocket.OPEN || socket.bufferedAmount <= this.delivery.backlogMaxBytes / 4;
    return Promise.resolve(this.pending).then(() => {
      if (drained()) return;
      return new Promise<void>((resolve) => {
        const check = () => (drained() ? resolve() : setTimeout(check, DRAIN_CHECK_MS));
        setTimeout(check, DRAIN_CHECK_MS);
      });
    });
  }

  /** The events have ended: once the last frame is out, graphql-ws may complete the operation. */
  end(): void {
    void Promise.resolve(this.pending).then(() => this.finish());
  }

  next(): Promise<IteratorResult<ExecutionResult>> {
    if (!this.ended) {
      this.ended = this.done ? Promise.resolve(DONE) : new Promise((resolve) => (this.resolveEnded = resolve));
      // graphql-ws asks for the first result once the operation is registered; a frame written
      // before could reach a client that has completed the operation already.
      this.events.listen(this);
    }
    return this.ended;
  }

  return(): Promise<IteratorResult<ExecutionResult>> {
    return Promise.resolve(this.events.return?.()).then(() => this.finish());
  }

  throw(): Promise<IteratorResult<ExecutionResult>> {
    return this.return();
  }

  private finish(): IteratorResult<ExecutionResult> {
    if (this.done) return DONE;
    this.done = true;
    if (this.group) this.delivery.leave(this.group);
    // Whatever wraps the events (counting the subscription, say) hears that they are over.
    void this.events.return?.();
    this.resolveEnded?.(DONE);
    return DONE;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

/**
 * A graphql-ws `subscribe` that writes each event's frame straight to the subscriber's socket,
 * sharing one execution and one serialization per event among subscribers that may see the same.
 */
export function createSubscriptionDelivery(options: DeliveryOptions) {
  const { maskError } = options;
  const sharedDocuments = new WeakMap<DocumentNode, boolean>();
  /** Live share groups by document, then by variables and operation name. */
  const groups = new Map<DocumentNode, Map<string, ShareGroup>>();

  const masked = (result: ExecutionResult): ExecutionResult =>
    result.errors ? { ...result, errors: result.errors.map((error) => maskError(error, 'Unexpected error.') as GraphQLError) } : result;
  // GraphQLError's toJSON gives the wire form of each error, as graphql-ws would send it.
  const serialize = (result: ExecutionResult): Payload => Buffer.from(`${JSON.stringify(masked(result))}}`);

  // Anything thrown past graphql-js is unexpected: the subscriber gets a masked error, the log the cause.
  const failed = (error: unknown): Payload => serialize({ errors: [error as GraphQLError] });

  function run(args: ExecutionArgs, event: unknown): Payload | Promise<Payload> {
    options.executed();
    try {
      // graphql-js' execute runs a subscription document's fields for one event, as its subscribe does.
      const result = execute({ ...args, rootValue: event });
      return result instanceof Promise ? result.then(serialize).catch(failed) : serialize(result);
    } catch (error) {
      return failed(error);
    }
  }

  function join(document: DocumentNode, key: string): ShareGroup {
    let byKey = groups.get(document);
    if (!byKey) groups.set(document, (byKey = new Map()));
    let group = byKey.get(key);
    if (!group) byKey.set(key, (group = new ShareGroup(document, key)));
    group.subscribers++;
    return group;
  }

  function leave(group: ShareGroup): void {
    if (--group.subscribers > 0) return;
    const byKey = groups.get(group.document);
    byKey?.delete(group.key);
    if (byKey?.size === 0) groups.delete(group.document);
  }

  const delivery: Delivery = { run, leave, delivered: options.delivered, backlogMaxBytes: options.backlogMaxBytes };

  return async function subscribe(args: ExecutionArgs, target: SubscriptionTarget): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
    const source = await createSourceEventStream(args);
    if (!(Symbol.asyncIterator in source)) return masked(source);
    if (!isLiveStream(source)) {
      await source[Symbol.asyncIterator]().return?.();
      throw new Error('a subscription resolver must return a LiveStream (resolvers/subscriptions.ts)');
    }
    let shared = sharedDocuments.get(args.document);
    if (shared === undefined) {
      shared = selectsOnlyShared(args.schema, args.document);
      sharedDocuments.set(args.document, shared);
    }
    const group = shared ? join(args.document, JSON.stringify([args.operationName ?? null, args.variableValues ?? null])) : null;
    return new SocketSubscription(source, args, target, delivery, group);
  };
}
