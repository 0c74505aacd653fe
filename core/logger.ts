import { pino, type Logger } from 'pino';
import type { LogLevel } from './config.js';

/** JSON logs on stdout; errors are serialized with their stack. */
export function createLogger(level: LogLevel): Logger {
  return pino({ level, base: { service: 'tributary' } });
}
