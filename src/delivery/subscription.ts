// One subscription over the WebSocket. graphql-ws iterates it: it yields nothing and ends when the
// events end (once the last frame is out); return() (the client's complete, or the socket closing)
// stops the events. Meanwhile the events are pushed to it and handed to its group, which writes
// each frame through write(). One object per subscriber on the fan-out's path.
import type { ExecutionArgs, ExecutionResult } from 'graphql';
import { WebSocket } from 'ws';
import { type GraphQLWebSocket, textFrame } from '../graphql-websocket.ts';
import type { LiveStream, Sink } from '../realtime/async-queue.ts';
import type { Group, Member, Payload } from './group.ts';
import { FilledPayload } from './template.ts';

/** How often a replay waiting for a socket to drain looks again. */
const DRAIN_CHECK_MS = 10;

/** Where one subscription's frames go: its socket, and the operation id the client chose. */
export interface SubscriptionTarget {
  socket: GraphQLWebSocket;
  id: string;
}

/** What every subscription of the process shares. */
export interface SubscriptionOptions {
  /** Bytes a socket may have waiting before it is closed as too slow. */
  backlogMaxBytes: number;
  /** Counts each frame written. */
  delivered(): void;
  /** The subscription has ended: it leaves its group. */
  leave(group: Group): void;
}

const DONE: IteratorResult<ExecutionResult> = Object.freeze({ value: undefined, done: true });

export class SocketSubscription implements AsyncIterableIterator<ExecutionResult>, Sink<unknown>, Member {
  private readonly socket: GraphQLWebSocket;
  /** The start of every frame, the operation's id, as bytes: copied into each frame, not encoded again. */
  private readonly prefix: Buffer;
  private ended: Promise<IteratorResult<ExecutionResult>> | null = null;
  private resolveEnded: ((result: IteratorResult<ExecutionResult>) => void) | null = null;
  private done = false;

  constructor(
    private readonly events: LiveStream<unknown>,
    readonly args: ExecutionArgs,
    target: SubscriptionTarget,
    private readonly group: Group,
    private readonly options: SubscriptionOptions,
  ) {
    this.socket = target.socket;
    this.prefix = Buffer.from(`{"id":${JSON.stringify(target.id)},"type":"next","payload":`);
  }

  push(event: unknown): void {
    this.group.push(event, this);
  }

  /** Writes one frame: the operation's id around the payload. */
  write(payload: Payload): void {
    const { socket } = this;
    if (this.done || socket.readyState !== WebSocket.OPEN) return;
    // One buffer per frame: the header, the operation's id, then the payload copied in after them.
    const payloadBytes = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.byteLength;
    const { prefix } = this;
    const length = prefix.length + payloadBytes;
    const frame = textFrame(length);
    const start = frame.length - length;
    prefix.copy(frame, start);
    const at = start + prefix.length;
    if (typeof payload === 'string') frame.write(payload, at);
    else if (payload instanceof FilledPayload) payload.copyTo(frame, at);
    else payload.copy(frame, at);
    socket.writeTextFrame(frame);
    this.options.delivered();
  }

  /**
   * Resolves once the frames handed over so far are written and the socket's backlog is down to a
   * quarter of the limit (or the socket is gone).
   */
  ready(): Promise<void> {
    const { socket } = this;
    const drained = () => socket.readyState !== WebSocket.OPEN || socket.bufferedAmount <= this.options.backlogMaxBytes / 4;
    return this.group.written().then(() => {
      if (drained()) return;
      return new Promise<void>((resolve) => {
        const check = () => (drained() ? resolve() : setTimeout(check, DRAIN_CHECK_MS));
        setTimeout(check, DRAIN_CHECK_MS);
      });
    });
  }

  /** The events have ended: once the last frame is out, graphql-ws may complete the operation. */
  end(): void {
    void this.group.written().then(() => this.finish());
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
    this.options.leave(this.group);
    // Whatever wraps the events (counting the subscription, say) hears that they are over.
    void this.events.return?.();
    this.resolveEnded?.(DONE);
    return DONE;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
