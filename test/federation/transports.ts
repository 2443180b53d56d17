// The two subgraph transports the Hive gateway runtime loads by kind: "http" (queries, mutations,
// and subscriptions handed to another kind) and "ws" (graphql-ws). In production they are
// @graphql-mesh/transport-http and @graphql-mesh/transport-ws; neither is installed here, so the
// test passes these small ones with the same transportEntries options and `{context.*}`
// interpolation, built only on fetch and graphql-ws.
import type { GatewayConfigSupergraph } from '@graphql-hive/gateway-runtime';
import { type DocumentNode, type ExecutionResult, type GraphQLFormattedError, print } from 'graphql';
import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';

type TransportMap = Exclude<NonNullable<GatewayConfigSupergraph['transports']>, (kind: string) => unknown>;
type Transport = Extract<Awaited<TransportMap[string]>, { getSubgraphExecutor: unknown }>;
type ExecutorOptions = Parameters<Transport['getSubgraphExecutor']>[0];
type TransportEntry = ExecutorOptions['transportEntry'];

/** What an executor gets from the gateway (the parts these transports read). */
interface SubgraphRequest {
  document: DocumentNode;
  variables?: Record<string, unknown>;
  operationName?: string;
  operationType?: string;
  context?: unknown;
}

/** Replaces `{context.a.b}` and `{env.NAME}` with the value at that path ('' when absent). */
export function interpolate(template: string, scope: { context?: unknown }): string {
  return template.replace(/\{([^}]+)\}/g, (_match, path: string) => {
    let value: unknown = { ...scope, env: process.env };
    for (const key of path.trim().split('.')) {
      value = value != null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
    }
    return value == null ? '' : String(value);
  });
}

/** The interpolated values of a name → template map, leaving out the empty ones. */
function interpolateAll(templates: Record<string, string> | undefined, scope: { context?: unknown }) {
  const values: Record<string, string> = {};
  for (const [name, template] of Object.entries(templates ?? {})) {
    const value = interpolate(template, scope);
    if (value !== '') values[name] = value;
  }
  return values;
}

/** A graphql-ws error (the operation's errors, a closed socket or a thrown error) as a result. */
function failed(error: unknown): ExecutionResult {
  if (Array.isArray(error)) return { errors: error as GraphQLFormattedError[] } as unknown as ExecutionResult;
  const closed = error as { code?: unknown; reason?: unknown };
  const message =
    typeof closed?.code === 'number'
      ? `The subgraph closed the connection: ${closed.code} ${String(closed.reason ?? '')}`.trim()
      : error instanceof Error
        ? error.message
        : String(error);
  return { errors: [{ message }] } as unknown as ExecutionResult;
}

/** GraphQL over HTTP (POST, JSON); subscriptions go to the transport kind options.subscriptions names. */
const http: Transport = {
  getSubgraphExecutor(payload) {
    const entry = payload.transportEntry;
    const headers = Object.fromEntries(entry.headers ?? []) as Record<string, string>;
    const subscriptions = entry.options?.subscriptions as TransportEntry | undefined;
    let subscriptionExecutor: ((request: SubgraphRequest) => unknown) | undefined;

    const executor = async (request: SubgraphRequest) => {
      if (request.operationType === 'subscription' && subscriptions) {
        subscriptionExecutor ??= (await payload.getTransportExecutor({
          ...entry,
          kind: subscriptions.kind || entry.kind,
          // A WebSocket carries identity in connectionParams, not in headers.
          headers: subscriptions.headers,
          location: new URL(subscriptions.location ?? entry.location!, entry.location).toString(),
          options: { ...entry.options, ...subscriptions.options, subscriptions: undefined },
        })) as unknown as (request: SubgraphRequest) => unknown;
        return subscriptionExecutor(request);
      }
      const response = await fetch(interpolate(entry.location!, request), {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', ...interpolateAll(headers, request) },
        body: JSON.stringify({ query: print(request.document), variables: request.variables, operationName: request.operationName }),
      });
      return (await response.json()) as ExecutionResult;
    };
    return executor as never;
  },
};

/** GraphQL over WebSocket (graphql-ws): one connection per distinct connectionParams, i.e. per user. */
const ws: Transport = {
  getSubgraphExecutor({ transportEntry }) {
    const clients = new Map<string, Client>();
    const templates = transportEntry.options?.connectionParams as Record<string, string> | undefined;

    function clientFor(request: SubgraphRequest): Client {
      const url = interpolate(transportEntry.location!, request).replace(/^http/, 'ws');
      const connectionParams = interpolateAll(templates, request);
      const key = JSON.stringify({ url, connectionParams });
      let client = clients.get(key);
      if (!client) {
        client = createClient({
          url,
          webSocketImpl: WebSocket,
          connectionParams,
          lazy: true,
          lazyCloseTimeout: 1000,
          retryAttempts: 0,
          on: { closed: () => clients.delete(key) },
        });
        clients.set(key, client);
      }
      return client;
    }

    const executor = (request: SubgraphRequest): AsyncIterableIterator<ExecutionResult> => {
      const results: ExecutionResult[] = [];
      let done = false;
      let wake: (() => void) | undefined;
      const push = (result?: ExecutionResult) => {
        if (result) results.push(result);
        else done = true;
        wake?.();
      };
      const unsubscribe = clientFor(request).subscribe(
        { query: print(request.document), variables: request.variables, operationName: request.operationName },
        {
          next: (result) => push(result as ExecutionResult),
          error: (error) => {
            push(failed(error));
            push();
          },
          complete: () => push(),
        },
      );
      const iterator: AsyncIterableIterator<ExecutionResult> = {
        async next() {
          while (results.length === 0 && !done) await new Promise<void>((resolve) => (wake = resolve));
          const value = results.shift();
          return value ? { value, done: false } : { value: undefined, done: true };
        },
        async return() {
          unsubscribe();
          done = true;
          wake?.();
          return { value: undefined, done: true };
        },
        [Symbol.asyncIterator]() {
          return iterator;
        },
      };
      return iterator;
    };
    return Object.assign(executor, {
      [Symbol.asyncDispose]: async () => {
        await Promise.all([...clients.values()].map((client) => client.dispose()));
      },
    }) as never;
  },
};

export const testTransports: TransportMap = { http, ws };
