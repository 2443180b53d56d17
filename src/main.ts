// main() only: load config, connect, build the app, start; SIGTERM/SIGINT stop it gracefully.
// A start-up that fails says why in one line on stderr (no stack) and exits 1.
import { type App, buildApp } from './app.ts';
import { type Config, ConfigError, loadConfig } from './config.ts';
import type { AppDeps } from './context.ts';
import { closeDeps, connectDeps } from './deps.ts';
import { type Logger, createLogger } from './logger.ts';

/** Why the server could not listen, for the usual causes in words. */
function listenFailure(host: string, port: number, error: unknown): Error {
  const { code, message } = error as NodeJS.ErrnoException;
  if (code === 'EADDRINUSE') return new Error(`port ${port} on ${host} is already in use by another process (set PORT to a free one)`);
  if (code === 'EACCES') return new Error(`no permission to listen on ${host}:${port} (ports below 1024 need privileges)`);
  if (code === 'EADDRNOTAVAIL') return new Error(`cannot listen on ${host}:${port}: ${host} is not an address of this machine (HOST)`);
  return new Error(`cannot listen on ${host}:${port}: ${message}`);
}

/** Connects the store and the bus, then listens; what was opened is closed again when listening fails. */
async function connectAndListen(config: Config, logger: Logger): Promise<{ deps: AppDeps; app: App; port: number }> {
  const deps = await connectDeps(config, logger);
  const app = buildApp(deps);
  try {
    return { deps, app, port: await app.start() };
  } catch (error) {
    await app.stop();
    await closeDeps(deps);
    throw listenFailure(config.host, config.port, error);
  }
}

async function main(): Promise<void> {
  const config = loadConfig();
  // Readable lines in a developer's terminal; JSON lines in production and wherever output is piped.
  const pretty = !config.production && process.stdout.isTTY === true;
  const logger = createLogger(config.logLevel, { pretty });
  if (config.jwtSecretIsDevelopment) logger.warn('AUTH_JWT_SECRET is unset: using the development secret (refused in production)');

  const { deps, app, port } = await connectAndListen(config, logger).catch((error: unknown) => {
    // The line on stderr (main's catch) is for whoever reads the terminal; a log read by machines
    // records the failure too, and its stack at LOG_LEVEL=debug.
    if (!pretty) logger.fatal(`cannot start: ${(error as Error).message}`);
    logger.debug({ err: error }, 'start-up failed');
    throw error;
  });
  logger.info(
    { port, store: deps.store.kind, bus: deps.bus.kind },
    `chat server listening on http://localhost:${port}/graphql (store: ${config.mongodbUrl ? 'mongodb' : config.sqlitePath}, bus: ${deps.bus.kind})`,
  );

  // SIGTERM drains: /ready fails at once and the process keeps serving for SHUTDOWN_DELAY_MS, so
  // the load balancer stops sending it new connections before any is closed; then every
  // WebSocket is closed with 1001 (its client reconnects through the balancer, to another
  // process, and resumes with afterSeq), requests in flight finish, and the store and bus close.
  let draining = false;
  const stop = async (signal: string) => {
    if (draining) {
      logger.warn({ signal }, 'second signal while draining: exiting at once');
      process.exit(1);
    }
    draining = true;
    const { delayMs, graceMs } = config.shutdown;
    logger.info({ signal, delayMs }, 'draining: /ready answers 503, still serving until the load balancer has noticed');
    app.drain();
    try {
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      logger.info('closing WebSockets (1001) and refusing new connections');
      await app.stop(graceMs);
      logger.info('connections closed; closing the store and the bus');
      await closeDeps(deps);
      logger.info('stopped');
      process.exit(0);
    } catch (error) {
      logger.error({ err: error }, 'unclean stop');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((error: unknown) => {
  const reason = error instanceof Error ? error.message : String(error);
  process.stderr.write(error instanceof ConfigError ? `configuration error: ${reason}\n` : `cannot start: ${reason}\n`);
  process.exit(1);
});
