// The process's structured logger (pino); one per process, children per concern.
import pino from 'pino';

export type Logger = pino.Logger;

/** Creates the root logger at the configured level. */
export function createLogger(level: string): Logger {
  return pino({ level, base: { pid: process.pid } });
}
