// GraphQL over WebSocket: graphql-ws's protocol server (makeServer, graphql-transport-ws) on `ws`,
// on the HTTP server's /graphql path. Each operation goes through yoga.getEnveloped, so WebSocket
// operations get the same plugins, validation, masking and context as HTTP ones; the connection's
// token (connectionParams) names the viewer, and its device counts for presence. Subscription
// events are written straight to the socket (src/delivery/).
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import { type ExecutionArgs, type ExecutionResult, GraphQLError, getOperationAST } from 'graphql';
import { CloseCode, type WebSocket as ProtocolSocket, handleProtocols, makeServer } from 'graphql-ws';
import type { YogaServerInstance } from 'graphql-yoga';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import type { AppDeps, RequestContext } from './context.ts';
import type { Viewer } from './domain/types.ts';
import { AppError } from './errors.ts';
import { KeepAlive, type Pinged } from './keep-alive.ts';
import { type SubscriptionTarget, createSubscriptionDelivery } from './delivery/index.ts';

/** The largest message a client may send: operations are small; a longer one is an abuse. */
const CLIENT_MESSAGE_MAX_BYTES = 256 * 1024;

/** How one operation runs, handed from onSubscribe to execute/subscribe by its execution arguments. */
type Operation =
  | { execute: (args: ExecutionArgs) => ExecutionResult | Promise<ExecutionResult> }
  | { target: SubscriptionTarget };

/**
 * A ws socket that is also graphql-ws's view of it (makeServer's WebSocket): ws builds each
 * connection as one of these, so the protocol's hooks live in the socket's own fields, with no
 * adapter object or closure per connection.
 */
class GraphQLWebSocket extends WebSocket implements ProtocolSocket, Pinged {
  /** graphql-ws's handler of each message the client sends. */
  handle: ((data: string) => Promise<void>) | null = null;
  /** graphql-ws's clean-up once the socket has closed. */
  cleanUp: ((code?: number, reason?: string) => Promise<void>) | null = null;
  awaitingPong = false;

  onMessage(handle: (data: string) => Promise<void>): void {
    this.handle = handle;
  }
}

/** One WebSocket connection: its socket, and once the token is checked, who it is. */
export interface Connection {
  socket: WebSocket;
  viewer?: Viewer;
  /** Operations open on the connection. */
  operations: number;
}

/** What Yoga is handed besides its own context: the HTTP request, or the WebSocket connection. */
export type ServerContext = { req?: IncomingMessage; extra?: Connection };

type MaskError = (error: unknown, message: string) => Error;

/** Serves graphql-ws beside Yoga; close() says goodbye to every socket (1001) and stops. */
export function serveGraphQLOverWebSocket(
  server: Server,
  yoga: YogaServerInstance<ServerContext, RequestContext>,
  deps: AppDeps,
  maskError: MaskError,
): { close(): Promise<void> } {
  const { config, logger, metrics } = deps;
  const subscribe = createSubscriptionDelivery({ deps, maskError, backlogMaxBytes: config.limits.socketBacklogMaxBytes });
  const operations = new WeakMap<ExecutionArgs, Operation>();
  const protocol = makeServer<Record<string, unknown>, Connection>({
    connectionInitWaitTimeout: config.limits.connectionInitTimeoutMs,
    onConnect: async (ctx) => {
      const params = ctx.connectionParams ?? {};
      // Clients send { authorization }; some send the header's spelling, { Authorization }.
      const header = params.authorization ?? params.Authorization;
      const authorization = typeof header === 'string' ? header : undefined;
      const named = typeof params.deviceId === 'string' && params.deviceId.length <= 200 ? params.deviceId : '';
      // graphql-ws keeps the params for the connection's life; the token is checked once, here.
      const kept = params as Record<string, unknown>;
      for (const key of ['authorization', 'Authorization']) if (key in kept) kept[key] = undefined;
      try {
        const viewer = await deps.viewers.fromAuthorization(authorization, named || `device-${randomUUID()}`);
        // The socket may have gone while the token was checked: onClose has run already and
        // would never unregister a device registered now.
        if (ctx.extra.socket.readyState !== WebSocket.OPEN) return false;
        ctx.extra.viewer = viewer;
        metrics.connections.inc();
        await deps.presence.deviceConnected(viewer.id, viewer.deviceId!);
        return true;
      } catch (error) {
        if (!(error instanceof AppError)) logger.error({ err: error }, 'connection refused by an unexpected error');
        return false; // graphql-ws closes the socket with 4403 Forbidden
      }
    },
    onClose: async (ctx) => {
      const viewer = ctx.extra.viewer;
      if (!viewer) return;
      metrics.connections.dec();
      await deps.presence.deviceDisconnected(viewer.id, viewer.deviceId!).catch((error: unknown) => {
        logger.warn({ err: error }, 'could not record a device leaving');
      });
    },
    onSubscribe: async (ctx, id, payload) => {
      const connection = ctx.extra;
      if (connection.operations >= config.limits.subscriptionsPerConnection) {
        return [
          new GraphQLError(`At most ${config.limits.subscriptionsPerConnection} operations may be open on one connection`, {
            extensions: { code: 'RATE_LIMITED', retryAfterSeconds: 1 },
          }),
        ];
      }
      // Only what the context needs: a subscription keeps its context for as long as it lives.
      const enveloped = yoga.getEnveloped({ extra: connection, params: payload });
      let document;
      try {
        document = enveloped.parse(payload.query);
      } catch (error) {
        return [error instanceof GraphQLError ? error : new GraphQLError('The document could not be parsed')];
      }
      const errors = enveloped.validate(enveloped.schema, document);
      if (errors.length > 0) return errors;
      connection.operations++;
      const kind = getOperationAST(document, payload.operationName)?.operation;
      const args: ExecutionArgs = {
        schema: enveloped.schema,
        operationName: payload.operationName,
        document,
        variableValues: payload.variables,
        contextValue: await enveloped.contextFactory(),
        rootValue: undefined,
      };
      operations.set(args, kind === 'subscription' ? { target: { socket: connection.socket, id } } : { execute: enveloped.execute });
      return args;
    },
    onComplete: (ctx) => {
      ctx.extra.operations = Math.max(0, ctx.extra.operations - 1);
    },
    execute: (args) => {
      const operation = operations.get(args);
      if (!operation || !('execute' in operation)) throw new Error('an operation reached execute without its onSubscribe');
      return operation.execute(args);
    },
    subscribe: (args) => {
      const operation = operations.get(args);
      if (!operation || !('target' in operation)) throw new Error('an operation reached subscribe without its onSubscribe');
      return subscribe(args, operation.target);
    },
  });

  const keepAlive = new KeepAlive(config.keepAliveMs);
  const wsServer = new WebSocketServer({
    server,
    path: '/graphql',
    handleProtocols,
    maxPayload: CLIENT_MESSAGE_MAX_BYTES,
    WebSocket: GraphQLWebSocket,
  });
  wsServer.on('connection', (socket: GraphQLWebSocket) => {
    socket.cleanUp = protocol.opened(socket, { socket, operations: 0 });
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
    async close() {
      keepAlive.stop();
      for (const client of wsServer.clients) client.close(1001, 'server is shutting down');
      await new Promise<void>((resolve) => wsServer.close(() => resolve()));
    },
  };
}
