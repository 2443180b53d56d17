// The server of one process: node:http serving Yoga (GraphQL over HTTP, GraphiQL), graphql-ws on
// the same /graphql path (src/websocket.ts), and /health, /ready, /metrics.
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { type DocumentNode, parse } from 'graphql';
import { createYoga, type Plugin } from 'graphql-yoga';
import { type AppDeps, createContext, type RequestContext } from './context.ts';
import type { Viewer } from './domain/types.ts';
import { AppError, createErrorMasker, toGraphQLError } from './errors.ts';
import { asksOnlyForSchema, documentLimits } from './limits.ts';
import { schema } from './schema.ts';
import { type ServerContext, serveGraphQLOverWebSocket } from './websocket.ts';

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

  const yoga = createYoga<ServerContext, RequestContext>({
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

  const webSocket = serveGraphQLOverWebSocket(server, yoga, deps, maskError);

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
      await webSocket.close();
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
