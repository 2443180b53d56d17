// The process's structured logger (pino); one per process, children per concern: JSON lines for
// machines (production, pipes, files), readable lines (pino-pretty) in a developer's terminal. And
// the one line each refused or failed request leaves in it.
import type { GraphQLFormattedError } from 'graphql';
import pino from 'pino';
import pretty from 'pino-pretty';

export type Logger = pino.Logger;

export interface LoggerOptions {
  /** Human-readable lines instead of JSON. */
  pretty?: boolean;
}

/** Creates the root logger at the configured level. */
export function createLogger(level: string, options: LoggerOptions = {}): Logger {
  const settings = { level, base: { pid: process.pid } };
  if (!options.pretty) return pino(settings);
  // Synchronous, so the last lines before an exit are on the terminal.
  return pino(settings, pretty({ sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }));
}

/** A short id that ties a client's error to the log. */
export function newRequestId(): string {
  return Math.random().toString(36).slice(2, 10);
}

/**
 * One line for a request (an HTTP request, or an operation on a WebSocket) that came back with
 * errors: its id, operation and codes, however many errors it holds (a batch of 500 refused
 * entities is one line). Client mistakes are part of normal operation: info. An unexpected error
 * has its own line at error, with its stack, written where it was masked; this line carries its id.
 */
export function logRequestErrors(
  logger: Logger,
  request: { operationName?: string | null; transport: 'http' | 'ws'; status?: number },
  errors: readonly Pick<GraphQLFormattedError, 'extensions'>[],
): void {
  if (errors.length === 0) return;
  const codes = [...new Set(errors.map((error) => String(error.extensions?.code ?? 'UNCODED')))].sort();
  const internal = errors.find((error) => error.extensions?.code === 'INTERNAL_SERVER_ERROR');
  const requestId = typeof internal?.extensions?.requestId === 'string' ? internal.extensions.requestId : newRequestId();
  const line = { requestId, operationName: request.operationName ?? null, transport: request.transport, status: request.status, codes, errors: errors.length };
  if (internal) logger.warn(line, 'request failed');
  else logger.info(line, 'request refused');
}
