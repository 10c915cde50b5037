import pino, { type Logger } from 'pino';
import { currentLogContext } from './log-context';

/** Paths whose values never reach a log line (tokens, keys, secrets). */
export const REDACTED_PATHS = [
  'authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["stripe-signature"]',
  '*.apiKey',
  '*.accessToken',
  '*.refreshToken',
  '*.password',
  '*.secret',
  '*.token',
  'databaseUrl',
];

/** `destination`: stdout unless given (tests capture lines). */
export function createLogger(
  level: string = process.env.LOG_LEVEL ?? 'info',
  name = 'platform',
  destination?: pino.DestinationStream,
): Logger {
  // The request/run context (lib/log-context.ts) on every line, also of child loggers.
  const options = { name, level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' }, mixin: () => ({ ...currentLogContext() }) };
  return destination ? pino(options, destination) : pino(options);
}

export type { Logger };
