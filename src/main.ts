// main() only: load config, connect, build the app, start; SIGTERM/SIGINT stop it gracefully.
import { buildApp } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';
import { closeDeps, connectDeps } from './deps.ts';
import { createLogger } from './logger.ts';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`configuration error: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);
  if (config.jwtSecretIsDevelopment) logger.warn('AUTH_JWT_SECRET is unset: using the development secret (refused in production)');

  let deps;
  try {
    deps = await connectDeps(config, logger);
  } catch (error) {
    // One plain line that says what failed, for whoever reads the terminal; the log keeps the details.
    console.error(`cannot start: ${(error as Error).message}`);
    logger.fatal({ err: error }, `cannot start: ${(error as Error).message}`);
    process.exit(1);
  }
  const app = buildApp(deps);
  const port = await app.start();
  logger.info(
    { port, store: deps.store.kind, bus: deps.bus.kind },
    `chat server listening on http://localhost:${port}/graphql (store: ${config.mongodbUrl ? 'mongodb' : config.sqlitePath}, bus: ${deps.bus.kind})`,
  );

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    try {
      await app.stop();
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

void main();
