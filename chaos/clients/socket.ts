// A graphql-transport-ws client over a plain `ws` socket, with what a mobile client needs in bad
// weather and nothing more: connection_init with the token and device, subscriptions and one-shot
// operations by id, and a watchdog that drops a socket on which nothing (not even the server's
// keep-alive ping) has been heard for idleMs: a paused server or a dead network says no goodbye.
// stall() stops reading from the socket for a while: a consumer that falls behind.
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import WebSocket from 'ws';
import { now } from '../../bench/lib/clock.ts';
import { type Outcome, graphqlFailure, queryText } from './api.ts';

export interface ExecutionPayload {
  data?: unknown;
  errors?: { message: string; extensions?: { code?: string; retryAfterSeconds?: number } }[];
}

export interface OperationHandlers {
  next(payload: ExecutionPayload): void;
  /** The server refused the operation (an `error` message) or ended it (`complete`). */
  ended(why: string): void;
}

interface Frame {
  type: string;
  id?: string;
  payload?: unknown;
}

const WATCH_EVERY_MS = 250;

export class GraphQLSocket {
  private readonly operations = new Map<string, OperationHandlers>();
  private nextId = 1;
  private heardAt = now();
  private stalledUntil = 0;
  private readonly watchdog: NodeJS.Timeout;
  /** Resolves with why the socket ended: its close code and reason, or what the watchdog saw. */
  readonly closed: Promise<string>;
  private endReason: string | null = null;

  private constructor(
    private readonly ws: WebSocket,
    idleMs: number,
  ) {
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        clearInterval(this.watchdog);
        const why = this.endReason ?? `close ${code}${reason.length ? ` ${reason.toString().slice(0, 80)}` : ''}`;
        for (const handlers of this.operations.values()) handlers.ended(why);
        this.operations.clear();
        resolve(why);
      });
    });
    ws.on('ping', () => (this.heardAt = now()));
    ws.on('message', (data) => this.received(String(data)));
    ws.on('error', () => {}); // 'close' follows and says what matters
    this.watchdog = setInterval(() => {
      const t = now();
      if (t < this.stalledUntil) return;
      if (t - this.heardAt > idleMs) this.terminate(`idle ${Math.round(t - this.heardAt)} ms`);
    }, WATCH_EVERY_MS);
  }

  /** Opens a connection and resolves once the server has acknowledged it; rejects otherwise. */
  static open(url: string, token: string, deviceId: string, idleMs: number): Promise<GraphQLSocket> {
    const ws = new WebSocket(url, ['graphql-transport-ws'], { perMessageDeflate: false, handshakeTimeout: idleMs });
    const socket = new GraphQLSocket(ws, idleMs);
    return new Promise((resolve, reject) => {
      let acknowledged = false;
      const onAck = (data: WebSocket.RawData) => {
        if (acknowledged) return;
        const frame = JSON.parse(String(data)) as Frame;
        if (frame.type !== 'connection_ack') return;
        acknowledged = true;
        ws.off('message', onAck);
        resolve(socket);
      };
      ws.on('message', onAck);
      ws.once('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}`, deviceId } })));
      void socket.closed.then((why) => {
        if (!acknowledged) reject(new Error(`not acknowledged: ${why}`));
      });
    });
  }

  private received(text: string): void {
    this.heardAt = now();
    let frame: Frame;
    try {
      frame = JSON.parse(text) as Frame;
    } catch {
      return this.terminate('unparsable frame');
    }
    if (frame.type === 'ping') return this.send({ type: 'pong' });
    const handlers = frame.id === undefined ? undefined : this.operations.get(frame.id);
    if (!handlers) return;
    if (frame.type === 'next') handlers.next(frame.payload as ExecutionPayload);
    else if (frame.type === 'error' || frame.type === 'complete') {
      this.operations.delete(frame.id!);
      handlers.ended(frame.type === 'error' ? `error ${JSON.stringify(frame.payload).slice(0, 200)}` : 'complete');
    }
  }

  private send(frame: Frame): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(frame));
  }

  /** Starts a subscription; returns its id. */
  subscribe<T, V>(document: TypedDocumentNode<T, V>, variables: V, handlers: OperationHandlers): string {
    const id = String(this.nextId++);
    this.operations.set(id, handlers);
    this.send({ id, type: 'subscribe', payload: { query: queryText(document), variables } });
    return id;
  }

  /** Runs a query on this connection; fails when the socket ends first or after timeoutMs. */
  request<T, V>(document: TypedDocumentNode<T, V>, variables: V, timeoutMs: number): Promise<Outcome<T>> {
    return new Promise((resolve) => {
      let result: Outcome<T> | null = null;
      const timer = setTimeout(() => finish({ ok: false, failure: 'timeout', codes: [], retryAfterMs: 0, message: 'no answer' }), timeoutMs);
      const finish = (outcome: Outcome<T>) => {
        clearTimeout(timer);
        this.operations.delete(id);
        resolve(outcome);
      };
      const id = this.subscribe(document, variables, {
        next: (payload) => {
          result = payload.errors?.length ? graphqlFailure(payload.errors) : { ok: true, data: payload.data as T };
        },
        ended: (why) => finish(result ?? { ok: false, failure: 'network', codes: [], retryAfterMs: 0, message: why }),
      });
    });
  }

  /** Stops reading for ms (the server's frames pile up in the network, then on the server). */
  stall(ms: number): void {
    const raw = (this.ws as unknown as { _socket?: import('node:net').Socket })._socket;
    if (!raw) return;
    this.stalledUntil = now() + ms;
    raw.pause();
    setTimeout(() => {
      this.heardAt = now();
      raw.resume();
    }, ms).unref();
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** A clean goodbye (1000); terminated when the server does not answer within a second. */
  async close(): Promise<void> {
    this.endReason ??= 'closed by the client';
    this.ws.close(1000, 'bye');
    const timer = setTimeout(() => this.ws.terminate(), 1000);
    await this.closed;
    clearTimeout(timer);
  }

  terminate(why: string): void {
    this.endReason ??= why;
    this.ws.terminate();
  }
}
