// The server of one process: node:http serving Yoga (GraphQL over HTTP, GraphiQL), graphql-ws on
// the same /graphql path (src/websocket.ts), and /health, /ready, /metrics.
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { getOperationAST } from 'graphql';
import { createYoga, type Plugin } from 'graphql-yoga';
import { createHttpAuthentication } from './auth/http.ts';
import { type AppDeps, createContext, type RequestContext } from './context.ts';
import { createErrorMasker } from './errors.ts';
import { boundedParseCaches } from './limits/parse-cache.ts';
import { useOperationLimits } from './limits/plugin.ts';
import { logRequestErrors } from './logger.ts';
import { schema } from './schema.ts';
import { type ServerContext, serveGraphQLOverWebSocket } from './websocket.ts';

export interface App {
  /** Listens on config.port (0 = any free port); resolves with the port. */
  start(): Promise<number>;
  /**
   * From now on /ready answers 503 (draining) while everything else is served as before, so a
   * load balancer's health check takes the process out before its connections are closed.
   */
  drain(): void;
  /**
   * Closes every WebSocket (1001: clients reconnect elsewhere), stops accepting connections, lets
   * the HTTP requests in flight finish for up to graceMs, then closes what is left. The deps are
   * the caller's to close.
   */
  stop(graceMs?: number): Promise<void>;
}

export function buildApp(deps: AppDeps): App {
  const { config, logger, metrics } = deps;
  const maskError = createErrorMasker(logger, config.limits);
  const authentication = createHttpAuthentication(deps.viewers, config.limits);

  /** One log line per HTTP request that came back with errors (WebSocket operations: src/websocket.ts). */
  const requestLog: Plugin<ServerContext> = {
    onParse:
      ({ context }) =>
      ({ result, extendContext }) => {
        if (result && !(result instanceof Error)) extendContext({ operationName: getOperationAST(result, context.params?.operationName)?.name?.value });
      },
    onResultProcess({ result, serverContext }) {
      if (Array.isArray(result) || Symbol.asyncIterator in result || !result.errors) return;
      const context = serverContext as ServerContext;
      logRequestErrors(logger, { transport: 'http', operationName: context.operationName ?? context.params?.operationName }, result.errors);
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
    // Read up to the limit, whether the body says its length or comes in chunks; 413 beyond it.
    maxRequestBodySize: config.limits.httpBodyMaxBytes,
    parserAndValidationCache: boundedParseCaches(),
    maskedErrors: { maskError },
    logging: {
      debug: (...args) => logger.debug({ yoga: args }),
      info: (...args) => logger.info({ yoga: args }),
      warn: (...args) => logger.warn({ yoga: args }),
      // Yoga logs each error its masking changed: a client's mistake (logged once per request,
      // by requestLog) or an unexpected error (logged with its stack by maskError).
      error: (...args) => logger.debug({ yoga: args }),
    },
    plugins: [authentication.plugin, ...useOperationLimits(config.limits), requestLog],
    context: async (initial) => createContext(deps, initial.extra?.viewer ?? (await authentication.viewerOf(initial.request))),
  });

  let draining = false;
  /** Once stopping: requests still being answered, and who waits for the last of them. */
  let stopping = false;
  let inFlight = 0;
  let lastAnswered: (() => void) | null = null;
  const server = createServer((req, res) => {
    inFlight++;
    res.once('close', () => {
      if (--inFlight === 0) lastAnswered?.();
    });
    // A request on a kept-alive connection after stop(): answered, and the client told to reconnect.
    if (stopping) res.setHeader('connection', 'close');
    void route(req, res);
  });
  async function route(req: IncomingMessage, res: ServerResponse) {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/health') return reply(res, 200, { status: 'ok' });
    if (path === '/ready') {
      if (draining) return reply(res, 503, { ready: false, status: 'draining: shutting down, send new connections elsewhere' });
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
    drain() {
      draining = true;
    },
    async stop(graceMs = 0) {
      draining = true;
      stopping = true;
      await webSocket.close(graceMs);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      if (inFlight > 0 && graceMs > 0) {
        logger.info({ requests: inFlight, graceMs }, 'letting the HTTP requests in flight finish');
        let timer: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve) => {
          lastAnswered = resolve;
          timer = setTimeout(resolve, graceMs);
        });
        clearTimeout(timer);
      }
      if (inFlight > 0) logger.warn({ requests: inFlight }, 'closing the connections of HTTP requests still unanswered');
      server.closeAllConnections();
      await closed;
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
