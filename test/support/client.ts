// Clients as an app would use them: GraphQL over HTTP with a bearer token, and graphql-ws over a
// real WebSocket with connectionParams.
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { type DocumentNode, print } from 'graphql';
import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { signToken } from '../../src/auth/tokens.ts';
import { TEST_SECRET } from './server.ts';
import { waitUntil } from './wait.ts';

export interface GraphQLResponse<T> {
  data?: T | null;
  errors?: { message: string; path?: string[]; extensions?: Record<string, unknown> }[];
}

type Document<T, V> = string | TypedDocumentNode<T, V> | DocumentNode;
const text = (document: Document<unknown, unknown>) => (typeof document === 'string' ? document : print(document));

export const tokenFor = (sub: string, name = sub) => signToken({ sub, name }, TEST_SECRET, '1h');

/** One signed-in user of the API over HTTP. */
export class HttpUser {
  constructor(
    readonly url: string,
    readonly token: string,
    readonly sub: string,
  ) {}

  static async signIn(url: string, sub: string, name = sub): Promise<HttpUser> {
    return new HttpUser(url, await tokenFor(sub, name), sub);
  }

  /** The same user talking to another server (another process of the same deployment). */
  at(url: string): this {
    return Object.assign(Object.create(Object.getPrototypeOf(this)) as this, this, { url });
  }

  /** Runs an operation and returns the whole response (data and errors). */
  async request<T, V>(document: Document<T, V>, variables?: V): Promise<GraphQLResponse<T>> {
    const response = await fetch(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${this.token}` },
      body: JSON.stringify({ query: text(document), variables }),
    });
    return (await response.json()) as GraphQLResponse<T>;
  }

  /** Runs an operation that must succeed, and returns its data. */
  async run<T, V>(document: Document<T, V>, variables?: V): Promise<T> {
    const result = await this.request(document, variables);
    if (result.errors?.length || !result.data) throw new Error(`GraphQL errors: ${JSON.stringify(result.errors)}`);
    return result.data;
  }
}

/** The error codes of a response, in order. */
export const codes = (result: GraphQLResponse<unknown>) => (result.errors ?? []).map((e) => e.extensions?.code);

/** A graphql-ws client of one device of a user. */
export function wsClient(wsUrl: string, token: string | null, deviceId = 'test-device', extra: Partial<Parameters<typeof createClient>[0]> = {}): Client {
  return createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: token ? { authorization: `Bearer ${token}`, deviceId } : {},
    retryAttempts: 0,
    lazy: true,
    ...extra,
  });
}

/** A device that connects now (graphql-ws connection acknowledged) without any operation. */
export async function connectDevice(server: { wsUrl: string }, user: { token: string }, deviceId: string): Promise<Client> {
  let client!: Client;
  await new Promise<void>((resolve, reject) => {
    client = wsClient(server.wsUrl, user.token, deviceId, {
      lazy: false,
      onNonLazyError: reject,
      on: { connected: () => resolve() },
    });
  });
  return client;
}

/** A graphql-transport-ws connection spoken by hand, keeping every frame the server sends. */
export async function rawConnection(server: { wsUrl: string }, token: string) {
  const socket = new WebSocket(server.wsUrl, ['graphql-transport-ws']);
  const frames: string[] = [];
  const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
  socket.on('message', (data, isBinary) => frames.push(isBinary ? '(binary)' : String(data)));
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
  await waitUntil(() => frames.includes('{"type":"connection_ack"}'), 'the connection to be acknowledged');
  return { socket, frames, closed };
}

/** Events of one subscription, collected as they arrive, with a way to wait for the next ones. */
export class Subscription<T> {
  readonly events: T[] = [];
  /** When each event arrived (Date.now()), for tests that measure a pause in delivery. */
  readonly arrivedAt: number[] = [];
  readonly errors: unknown[] = [];
  completed = false;
  private waiters: (() => void)[] = [];
  private readonly dispose: () => void;

  constructor(client: Client, document: Document<unknown, unknown>, variables?: Record<string, unknown>) {
    this.dispose = client.subscribe<T>(
      { query: text(document), variables },
      {
        next: (value) => {
          if (value.errors) this.errors.push(...value.errors);
          else {
            this.events.push(value.data as T);
            this.arrivedAt.push(Date.now());
          }
          this.wake();
        },
        error: (error) => {
          this.errors.push(error);
          this.wake();
        },
        complete: () => {
          this.completed = true;
          this.wake();
        },
      },
    );
  }

  private wake() {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /** Resolves when `count` events (in all) have arrived; rejects after timeoutMs. */
  async waitFor(count: number, timeoutMs = 10_000): Promise<T[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.events.length < count) {
      if (this.errors.length > 0) throw new Error(`subscription failed: ${JSON.stringify(this.errors)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`waited ${timeoutMs} ms for ${count} events, got ${this.events.length}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.events.slice(0, count);
  }

  /** Resolves when the subscription has failed or completed (or after timeoutMs). */
  async settled(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.completed && this.errors.length === 0 && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadline - Date.now());
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  stop() {
    this.dispose();
  }
}

/** Waits for a fixed time: only where a test must show that something does NOT arrive. */
export const quietFor = (ms: number) => new Promise((r) => setTimeout(r, ms));
