// GraphQL over WebSocket: graphql-ws's protocol server (makeServer, graphql-transport-ws) on `ws`,
// on the HTTP server's /graphql path. Each operation goes through yoga.getEnveloped, so WebSocket
// operations get the same plugins, validation, masking and context as HTTP ones; the connection's
// token (connectionParams) names the viewer, and its device counts for presence. Subscription
// events are written straight to the socket (src/subscription-delivery.ts).
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import { type ExecutionArgs, type ExecutionResult, GraphQLError, getOperationAST } from 'graphql';
import { CloseCode, handleProtocols, makeServer } from 'graphql-ws';
import type { YogaServerInstance } from 'graphql-yoga';
import { WebSocket, WebSocketServer } from 'ws';
import type { AppDeps, RequestContext } from './context.ts';
import type { Viewer } from './domain/types.ts';
import { AppError } from './errors.ts';
import { KeepAlive } from './keep-alive.ts';
import { type SubscriptionTarget, createSubscriptionDelivery } from './subscription-delivery.ts';

/** The largest message a client may send: operations are small; a longer one is an abuse. */
const CLIENT_MESSAGE_MAX_BYTES = 256 * 1024;

/** How one operation runs, handed from onSubscribe to execute/subscribe as the root value. */
type Operation =
  | { execute: (args: ExecutionArgs) => ExecutionResult | Promise<ExecutionResult> }
  | { target: SubscriptionTarget };

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
  const subscribe = createSubscriptionDelivery(maskError, {
    executed: () => metrics.eventExecutions.inc(),
    delivered: () => metrics.deliveries.inc(),
  });
  const protocol = makeServer<Record<string, unknown>, Connection>({
    connectionInitWaitTimeout: config.limits.connectionInitTimeoutMs,
    onConnect: async (ctx) => {
      const params = ctx.connectionParams ?? {};
      // Clients send { authorization }; some send the header's spelling, { Authorization }.
      const header = params.authorization ?? params.Authorization;
      const authorization = typeof header === 'string' ? header : undefined;
      const named = typeof params.deviceId === 'string' && params.deviceId.length <= 200 ? params.deviceId : '';
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
      const operation: Operation = kind === 'subscription' ? { target: { socket: connection.socket, id } } : { execute: enveloped.execute };
      return {
        schema: enveloped.schema,
        operationName: payload.operationName,
        document,
        variableValues: payload.variables,
        contextValue: await enveloped.contextFactory(),
        rootValue: operation,
      };
    },
    onComplete: (ctx) => {
      ctx.extra.operations = Math.max(0, ctx.extra.operations - 1);
    },
    execute: (args) => {
      const operation = args.rootValue as Operation;
      if (!('execute' in operation)) throw new Error('a subscription reached execute');
      return operation.execute({ ...args, rootValue: undefined });
    },
    subscribe: (args) => {
      const operation = args.rootValue as Operation;
      if (!('target' in operation)) throw new Error('a query or mutation reached subscribe');
      return subscribe({ ...args, rootValue: undefined }, operation.target);
    },
  });

  const keepAlive = new KeepAlive(config.keepAliveMs);
  const wsServer = new WebSocketServer({ server, path: '/graphql', handleProtocols, maxPayload: CLIENT_MESSAGE_MAX_BYTES });
  wsServer.on('connection', (socket) => {
    const connection: Connection = { socket, operations: 0 };
    const closed = protocol.opened(
      {
        protocol: socket.protocol,
        // ws keeps writes in order: nothing to wait for.
        send: (data) => {
          if (socket.readyState === WebSocket.OPEN) socket.send(data);
        },
        close: (code, reason) => socket.close(code, reason),
        onMessage: (handle) =>
          socket.on('message', (data) => {
            // A subscribe's handling lasts as long as the subscription: never wait for it here.
            handle(String(data)).catch((error: unknown) => {
              logger.warn({ err: error }, 'a WebSocket message could not be handled');
              socket.close(CloseCode.InternalServerError, 'Internal server error');
            });
          }),
      },
      connection,
    );
    keepAlive.watch(socket);
    socket.once('error', (error) => {
      // ws has closed (or is closing) the socket already: a protocol error, a message too large.
      logger.debug({ err: error }, 'WebSocket error');
    });
    socket.once('close', (code, reason) => {
      keepAlive.forget(socket);
      closed(code, String(reason)).catch((error: unknown) => logger.warn({ err: error }, 'a closed WebSocket was not cleaned up'));
    });
  });

  return {
    async close() {
      keepAlive.stop();
      for (const client of wsServer.clients) client.close(1001, 'server is shutting down');
      await new Promise<void>((resolve) => wsServer.close(() => resolve()));
    },
  };
}
