// graphql-ws on the HTTP server's /graphql path. Each operation goes through yoga.getEnveloped,
// so WebSocket operations get the same plugins, validation, masking and context as HTTP ones;
// the connection's token (connectionParams) names the viewer, and its device counts for presence.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import { type DocumentNode, type ExecutionArgs, type ExecutionResult, GraphQLError } from 'graphql';
import { type Extra, useServer } from 'graphql-ws/use/ws';
import type { YogaServerInstance } from 'graphql-yoga';
import { WebSocket, WebSocketServer } from 'ws';
import type { AppDeps, RequestContext } from './context.ts';
import type { Viewer } from './domain/types.ts';
import { AppError } from './errors.ts';
import { createSharedSubscribe } from './shared-execution.ts';

/** How one WebSocket operation runs: the enveloped execute, and whom it may share results with. */
interface Operation {
  execute: (args: ExecutionArgs) => ExecutionResult | Promise<ExecutionResult>;
  shareKey: string;
}

/** What graphql-ws keeps per connection. */
export type ConnectionState = {
  viewer?: Viewer;
  subscriptions?: number;
};

/** What Yoga is handed besides its own context: the HTTP request, or the WebSocket's state. */
export type ServerContext = { req?: IncomingMessage; extra?: Extra & ConnectionState };

type MaskError = (error: unknown, message: string) => Error;

/** Serves graphql-ws beside Yoga; close() says goodbye to every socket (1001) and stops. */
export function serveGraphQLOverWebSocket(
  server: Server,
  yoga: YogaServerInstance<ServerContext, RequestContext>,
  deps: AppDeps,
  maskError: MaskError,
): { close(): Promise<void> } {
  const { config, logger, metrics } = deps;
  const sharedSubscribe = createSharedSubscribe(maskError, () => metrics.eventExecutions.inc());
  const wsServer = new WebSocketServer({ server, path: '/graphql' });
  const handle = useServer<Record<string, unknown>, ConnectionState>(
    {
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
      onSubscribe: async (ctx, _id, payload) => {
        const open = ctx.extra.subscriptions ?? 0;
        if (open >= config.limits.subscriptionsPerConnection) {
          return [
            new GraphQLError(`At most ${config.limits.subscriptionsPerConnection} operations may be open on one connection`, {
              extensions: { code: 'RATE_LIMITED', retryAfterSeconds: 1 },
            }),
          ];
        }
        // Only what the context needs: a subscription keeps its context for as long as it lives.
        const enveloped = yoga.getEnveloped({ extra: ctx.extra, params: payload });
        let document: DocumentNode;
        try {
          document = enveloped.parse(payload.query);
        } catch (error) {
          return [error instanceof GraphQLError ? error : new GraphQLError('The document could not be parsed')];
        }
        const errors = enveloped.validate(enveloped.schema, document);
        if (errors.length > 0) return errors;
        ctx.extra.subscriptions = open + 1;
        const operation: Operation = {
          execute: enveloped.execute,
          // Subscribers with the same document and variables may share each event's result.
          shareKey: JSON.stringify([payload.query, payload.variables ?? null, payload.operationName ?? null]),
        };
        const args: ExecutionArgs = {
          schema: enveloped.schema,
          operationName: payload.operationName,
          document,
          variableValues: payload.variables,
          contextValue: await enveloped.contextFactory(),
          rootValue: operation,
        };
        return args;
      },
      onComplete: (ctx) => {
        ctx.extra.subscriptions = Math.max(0, (ctx.extra.subscriptions ?? 1) - 1);
      },
      execute: (args) => (args.rootValue as Operation).execute({ ...args, rootValue: undefined }),
      subscribe: (args) => {
        const { shareKey } = args.rootValue as Operation;
        return sharedSubscribe({ ...args, rootValue: undefined }, shareKey);
      },
    },
    wsServer,
    config.keepAliveMs,
  );

  return {
    async close() {
      for (const client of wsServer.clients) client.close(1001, 'server is shutting down');
      await handle.dispose();
      await new Promise<void>((resolve) => wsServer.close(() => resolve()));
    },
  };
}
