// GraphQL over WebSocket: graphql-ws's protocol server (makeServer, graphql-transport-ws) on `ws`,
// on the HTTP server's /graphql path. Each operation goes through yoga.getEnveloped, so WebSocket
// operations get the same plugins, validation, masking and context as HTTP ones; the connection's
// token (connectionParams) names the viewer, and its device counts for presence. Subscription
// events are written straight to the socket (src/delivery/). What a client may make
// the server hold is bounded: the bytes waiting on each socket (every frame counts), the sockets of
// one user, and the socket's life, which ends with its token.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import { type ExecutionArgs, type ExecutionResult, GraphQLError, getOperationAST } from 'graphql';
import { CloseCode, handleProtocols, makeServer } from 'graphql-ws';
import type { YogaServerInstance } from 'graphql-yoga';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import type { AppDeps, RequestContext } from './context.ts';
import type { Viewer } from './domain/types.ts';
import { AppError, codeRequestErrors, requestError, toGraphQLError } from './errors.ts';
import { type GraphQLWebSocket, socketClassFor } from './graphql-websocket.ts';
import { KeepAlive } from './keep-alive.ts';
import { logRequestErrors } from './logger.ts';
import { type SubscriptionTarget, createSubscriptionDelivery } from './delivery/index.ts';
import { type InOrder, NOTHING_BEFORE, inOrder } from './operation-order.ts';
import { RunningOperations } from './running-operations.ts';
import { TokenExpiry } from './token-expiry.ts';

/** Close code of a socket past its user's limit of open sockets; graphql-ws clients do not retry it. */
const TOO_MANY_SOCKETS = 4429;

/** How one operation runs, handed from onSubscribe to execute/subscribe by its execution arguments. */
type Operation = (
  | { execute: (args: ExecutionArgs) => ExecutionResult | Promise<ExecutionResult> }
  | { target: SubscriptionTarget }
) & {
  /** Lets the connection's next operation start (src/operation-order.ts). */
  started: () => void;
};

/** One WebSocket connection: its socket, and once the token is checked, who it is. */
export interface Connection extends InOrder {
  socket: GraphQLWebSocket;
  viewer?: Viewer;
  /** When the connection's token expires (ms since the epoch; null: never). */
  expiresAt: number | null;
  /** Operations open on the connection. */
  operations: number;
}

/**
 * What Yoga is handed besides its own context: the HTTP request, or the WebSocket connection; and
 * what the request log needs to know of an HTTP request.
 */
export type ServerContext = {
  req?: IncomingMessage;
  extra?: Connection;
  params?: { operationName?: string | null; variables?: Record<string, unknown> | null };
  operationName?: string;
};

/** The errors of an operation as a WebSocket client sees them: HTTP details left out. */
function withoutHttp(errors: readonly GraphQLError[]): GraphQLError[] {
  return errors.map((error) => {
    if (!error.extensions?.http) return error;
    const { http: _http, ...extensions } = error.extensions;
    return new GraphQLError(error.message, { nodes: error.nodes, source: error.source, positions: error.positions, path: error.path, extensions });
  });
}

type MaskError = (error: unknown, message: string) => Error;

/**
 * Serves graphql-ws beside Yoga; close() lets the queries and mutations running finish (refusing
 * new ones with UNAVAILABLE, which clients retry elsewhere), says goodbye to every socket (1001)
 * and stops.
 */
export function serveGraphQLOverWebSocket(
  server: Server,
  yoga: YogaServerInstance<ServerContext, RequestContext>,
  deps: AppDeps,
  maskError: MaskError,
): { close(graceMs?: number): Promise<void> } {
  const { config, logger, metrics } = deps;
  const { limits } = config;
  const subscribe = createSubscriptionDelivery({ deps, maskError, backlogMaxBytes: limits.socketBacklogMaxBytes });
  const operations = new WeakMap<ExecutionArgs, Operation>();
  /** Queries and mutations whose result is not yet sent; once stopping, none is started. */
  const running = new RunningOperations();
  let stopping = false;
  /** Open sockets of each user on this process. */
  const socketsOf = new Map<string, number>();
  const expiry = new TokenExpiry((socket) => socket.close(CloseCode.Forbidden, 'Forbidden: the token has expired'));

  /** The log line of an operation that came back with errors, and the errors without HTTP details. */
  function refused(operationName: string | null | undefined, errors: readonly GraphQLError[]): GraphQLError[] {
    logRequestErrors(logger, { transport: 'ws', operationName }, errors);
    return withoutHttp(errors);
  }

  const protocol = makeServer<Record<string, unknown>, Connection>({
    connectionInitWaitTimeout: limits.connectionInitTimeoutMs,
    onConnect: async (ctx) => {
      const params = ctx.connectionParams ?? {};
      // Clients send { authorization }; some send the header's spelling, { Authorization }.
      const header = params.authorization ?? params.Authorization;
      const authorization = typeof header === 'string' ? header : undefined;
      const named = typeof params.deviceId === 'string' && params.deviceId.length <= 200 ? params.deviceId : '';
      // graphql-ws keeps the params for the connection's life; the token is checked once, here.
      const kept = params as Record<string, unknown>;
      for (const key of ['authorization', 'Authorization']) if (key in kept) kept[key] = undefined;
      const connection = ctx.extra;
      try {
        const claims = await deps.viewers.verify(authorization);
        // The socket may have gone while the token was checked: onClose has run already and
        // would never unregister what is registered now.
        if (connection.socket.readyState !== WebSocket.OPEN) return false;
        const open = socketsOf.get(claims.sub) ?? 0;
        if (open >= limits.socketsPerUser) {
          connection.socket.close(TOO_MANY_SOCKETS, `Too many open connections: at most ${limits.socketsPerUser} per user`);
          return false;
        }
        socketsOf.set(claims.sub, open + 1);
        connection.viewer = { id: claims.sub, name: claims.name, deviceId: named || `device-${randomUUID()}` };
        connection.expiresAt = claims.expiresAt;
        if (claims.expiresAt !== null) expiry.watch(connection.socket, claims.expiresAt);
        metrics.connections.inc();
        // The profile (store) and the device's presence (Redis) do not depend on each other: written
        // together, the acknowledgement waits for the slower one, not for one after the other.
        await Promise.all([
          deps.viewers.provision(claims, connection.viewer.deviceId),
          deps.presence.deviceConnected(connection.viewer.id, connection.viewer.deviceId!),
        ]);
        return connection.socket.readyState === WebSocket.OPEN;
      } catch (error) {
        if (!(error instanceof AppError)) logger.error({ err: error }, 'connection refused by an unexpected error');
        return false; // graphql-ws closes the socket with 4403 Forbidden
      }
    },
    onClose: async (ctx) => {
      const { viewer, expiresAt, socket } = ctx.extra;
      if (!viewer) return;
      metrics.connections.dec();
      const open = (socketsOf.get(viewer.id) ?? 1) - 1;
      if (open > 0) socketsOf.set(viewer.id, open);
      else socketsOf.delete(viewer.id);
      if (expiresAt !== null) expiry.forget(socket, expiresAt);
      await deps.presence.deviceDisconnected(viewer.id, viewer.deviceId!).catch((error: unknown) => {
        logger.warn({ err: error }, 'could not record a device leaving');
      });
    },
    onSubscribe: (ctx, id, payload) =>
      inOrder(ctx.extra, async (started) => {
        const connection = ctx.extra;
        // No operation runs on an expired identity, even in the moment before the socket is closed.
        if (TokenExpiry.expired(connection.expiresAt)) {
          connection.socket.close(CloseCode.Forbidden, 'Forbidden: the token has expired');
          return [new GraphQLError('Sign in again: the token has expired', { extensions: { code: 'UNAUTHENTICATED' } })];
        }
        if (stopping) {
          return refused(payload.operationName, [
            toGraphQLError(AppError.unavailable(1, 'The server is shutting down; send this again (the connection will reopen elsewhere)')),
          ]);
        }
        if (connection.operations >= limits.subscriptionsPerConnection) {
          return refused(payload.operationName, [
            new GraphQLError(`At most ${limits.subscriptionsPerConnection} operations may be open on one connection`, {
              extensions: { code: 'RATE_LIMITED', retryAfterSeconds: 1 },
            }),
          ]);
        }
        // Only what the context needs: a subscription keeps its context for as long as it lives.
        const enveloped = yoga.getEnveloped({ extra: connection, params: payload });
        let document;
        try {
          document = enveloped.parse(payload.query);
          const errors = enveloped.validate(enveloped.schema, document);
          if (errors.length > 0) return refused(payload.operationName, errors);
        } catch (error) {
          // The limits throw before graphql-js validates (src/limits/plugin.ts); so does a parse error.
          const errors = error instanceof AggregateError ? error.errors : [error];
          return refused(
            payload.operationName,
            errors.map((e) => (e instanceof GraphQLError ? e : requestError('GRAPHQL_PARSE_FAILED', 'The document could not be parsed'))),
          );
        }
        connection.operations++;
        const kind = getOperationAST(document, payload.operationName)?.operation;
        // graphql-ws refuses a document without an operation to run: nothing will start.
        if (!kind) started();
        const args: ExecutionArgs = {
          schema: enveloped.schema,
          operationName: payload.operationName,
          document,
          variableValues: payload.variables,
          contextValue: await enveloped.contextFactory(),
          rootValue: undefined,
        };
        operations.set(
          args,
          kind === 'subscription' ? { target: { socket: connection.socket, id }, started } : { execute: enveloped.execute, started },
        );
        return args;
      }),
    onNext: (_ctx, _id, payload, _args, result) => {
      if (!result.errors?.length) return;
      return { ...result, errors: refused(payload.operationName, result.errors) };
    },
    onComplete: (ctx) => {
      ctx.extra.operations = Math.max(0, ctx.extra.operations - 1);
    },
    execute: (args) => {
      const operation = operations.get(args);
      if (!operation || !('execute' in operation)) throw new Error('an operation reached execute without its onSubscribe');
      operation.started();
      const result = operation.execute(args);
      running.track(result);
      return result;
    },
    subscribe: async (args) => {
      const operation = operations.get(args);
      if (!operation || !('target' in operation)) throw new Error('an operation reached subscribe without its onSubscribe');
      const result = await subscribe(args, operation.target).finally(operation.started);
      // Variables that cannot be coerced end the operation before it starts: say so with a code.
      return Symbol.asyncIterator in result ? result : codeRequestErrors(result);
    },
  });

  const keepAlive = new KeepAlive(config.keepAliveMs);
  const wsServer = new WebSocketServer({
    server,
    path: '/graphql',
    handleProtocols,
    maxPayload: limits.socketMessageMaxBytes,
    WebSocket: socketClassFor(limits.socketBacklogMaxBytes),
  });
  // ws repeats the HTTP server's errors here; the one that matters, failing to listen, reaches app.start().
  wsServer.on('error', () => {});
  wsServer.on('connection', (socket: GraphQLWebSocket) => {
    socket.cleanUp = protocol.opened(socket, { socket, operations: 0, expiresAt: null, lastStarted: NOTHING_BEFORE });
    socket.on('message', received);
    socket.on('error', failed);
    socket.on('close', ended);
    keepAlive.watch(socket);
  });

  // One listener of each kind for every socket (`this` is the socket): no closures per connection.
  function received(this: WebSocket, data: RawData) {
    // A subscribe's handling lasts as long as the subscription: never wait for it here.
    (this as GraphQLWebSocket).handle?.(String(data)).catch((error: unknown) => {
      logger.warn({ err: error }, 'a WebSocket message could not be handled');
      this.close(CloseCode.InternalServerError, 'Internal server error');
    });
  }
  function failed(this: WebSocket, error: Error) {
    // ws has closed (or is closing) the socket already: a protocol error, a message too large.
    logger.debug({ err: error }, 'WebSocket error');
  }
  function ended(this: WebSocket, code: number, reason: Buffer) {
    const socket = this as GraphQLWebSocket;
    keepAlive.forget(socket);
    socket.cleanUp?.(code, String(reason)).catch((error: unknown) => logger.warn({ err: error }, 'a closed WebSocket was not cleaned up'));
  }

  return {
    async close(graceMs = 0) {
      stopping = true;
      keepAlive.stop();
      expiry.stop();
      if (running.size > 0) logger.info({ operations: running.size, graceMs }, 'letting the WebSocket queries and mutations running finish');
      await running.finished(graceMs);
      for (const client of wsServer.clients) client.close(1001, 'server is shutting down');
      await new Promise<void>((resolve) => wsServer.close(() => resolve()));
    },
  };
}
