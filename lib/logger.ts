import pino, { type Logger } from 'pino';

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

export function createLogger(level: string = process.env.LOG_LEVEL ?? 'info', name = 'platform'): Logger {
  return pino({ name, level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } });
}

export type { Logger };
