// The server of one process: node:http serving Yoga (GraphQL over HTTP, GraphiQL), graphql-ws on
// the same /graphql path through yoga.getEnveloped (so WebSocket operations get the same plugins,
// masking and context as HTTP), and /health, /ready, /metrics.
import { randomUUID } from 'node:crypto';
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { type DocumentNode, type ExecutionArgs, type ExecutionResult, GraphQLError, parse } from 'graphql';
import { type Extra, useServer } from 'graphql-ws/use/ws';
import { createYoga, type Plugin } from 'graphql-yoga';
import { WebSocket, WebSocketServer } from 'ws';
import { type AppDeps, createContext, type RequestContext } from './context.ts';
import type { Viewer } from './domain/types.ts';
import { AppError, createErrorMasker, toGraphQLError } from './errors.ts';
import { asksOnlyForSchema, documentLimits } from './limits.ts';
import { schema } from './schema.ts';
import { createSharedSubscribe } from './shared-execution.ts';

/** How one WebSocket operation runs: the enveloped execute, and whom it may share results with. */
interface Operation {
  execute: (args: ExecutionArgs) => ExecutionResult | Promise<ExecutionResult>;
  shareKey: string;
}

/** What graphql-ws keeps per connection. */
type ConnectionState = {
  viewer?: Viewer;
  subscriptions?: number;
};

/**
 * How deep a document that only reads the schema may be: the standard introspection query
 * (graphql-js getIntrospectionQuery, GraphiQL's, codegen's) nests ofType to 15 fields deep.
 */
const INTROSPECTION_DEPTH_MAX = 15;

/** The viewer of an operation that only reads the schema (introspection, _service). */
const SCHEMA_READER: Viewer = { id: '', name: '', deviceId: null };

export interface App {
  /** Listens on config.port (0 = any free port); resolves with the port. */
  start(): Promise<number>;
  /** Closes sockets, then HTTP; the deps are the caller's to close. */
  stop(): Promise<void>;
}

function parseOrNull(query: string | undefined): DocumentNode | null {
  try {
    return query ? parse(query) : null;
  } catch {
    return null;
  }
}

export function buildApp(deps: AppDeps): App {
  const { config, logger, metrics } = deps;
  const maskError = createErrorMasker(logger);
  const limitsPlugin: Plugin = {
    onValidate: ({ addValidationRule, params }) => {
      const depthMax = asksOnlyForSchema(params.documentAST)
        ? Math.max(config.limits.queryDepthMax, INTROSPECTION_DEPTH_MAX)
        : config.limits.queryDepthMax;
      addValidationRule(documentLimits(depthMax, config.limits.aliasesMax));
    },
  };

  const yoga = createYoga<{ req?: IncomingMessage; extra?: Extra & ConnectionState }, RequestContext>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    // GraphiQL's graphql-ws mode sends an empty connection_init (never its header editor's
    // headers), so the WebSocket would refuse it; over SSE each subscription is an HTTP request
    // that carries the Authorization header like any query.
    graphiql: { title: 'Chat API', subscriptionsProtocol: 'SSE', defaultQuery: GRAPHIQL_DEFAULT_QUERY },
    renderGraphiQL,
    maskedErrors: { maskError },
    logging: {
      debug: (...args) => logger.debug({ yoga: args }),
      info: (...args) => logger.info({ yoga: args }),
      warn: (...args) => logger.warn({ yoga: args }),
      error: (...args) => logger.error({ yoga: args }),
    },
    plugins: [limitsPlugin],
    context: async (initial) => {
      const viewer = initial.extra?.viewer ?? (await viewerOfHttpRequest(initial));
      return createContext(deps, viewer);
    },
  });

  async function viewerOfHttpRequest(initial: { request: Request; params?: { query?: string } }): Promise<Viewer> {
    const header = initial.request.headers.get('authorization');
    if (!header) {
      const document = parseOrNull(initial.params?.query);
      if (document && asksOnlyForSchema(document)) return SCHEMA_READER;
    }
    try {
      return await deps.viewers.fromAuthorization(header, null);
    } catch (error) {
      throw error instanceof AppError ? toGraphQLError(error) : error;
    }
  }

  const server = createServer((req, res) => void route(req, res));
  async function route(req: IncomingMessage, res: ServerResponse) {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/health') return reply(res, 200, { status: 'ok' });
    if (path === '/ready') {
      const checks = await readiness();
      return reply(res, checks.ready ? 200 : 503, checks);
    }
    if (path === '/metrics') {
      metrics.feeds.set(deps.feeds.size);
      res.writeHead(200, { 'content-type': deps.metrics.registry.contentType });
      return res.end(await deps.metrics.registry.metrics());
    }
    if (path === '/') {
      res.writeHead(302, { location: '/graphql' });
      return res.end();
    }
    return yoga(req, res);
  }

  async function readiness() {
    const store = await deps.store.ping().then(
      () => 'up',
      () => 'down',
    );
    const bus = deps.bus.isHealthy() ? 'up' : 'down';
    return { ready: store === 'up' && bus === 'up', store: `${deps.store.kind} ${store}`, bus: `${deps.bus.kind} ${bus}` };
  }

  const sharedSubscribe = createSharedSubscribe(maskError, () => metrics.eventExecutions.inc());
  const wsServer = new WebSocketServer({ server, path: '/graphql' });
  const wsHandle = useServer<Record<string, unknown>, ConnectionState>(
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
        const enveloped = yoga.getEnveloped({ ...ctx, req: ctx.extra.request, extra: ctx.extra, params: payload });
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
    start: () =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.port, config.host, () => {
          server.off('error', reject);
          resolve((server.address() as AddressInfo).port);
        });
      }),
    async stop() {
      for (const client of wsServer.clients) client.close(1001, 'server is shutting down');
      await wsHandle.dispose();
      await new Promise<void>((resolve) => wsServer.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const GRAPHIQL_DEFAULT_QUERY = `# Set the header {"Authorization": "Bearer <token>"} below (npm run token -- alice).
# Subscriptions run here over SSE with the same header (apps use graphql-ws).
query Me {
  me { id name }
}
`;

function reply(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
