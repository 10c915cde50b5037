import { resolve } from 'node:path';
import { z } from 'zod';

/** A port number from the environment, or the default. */
const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const ConfigSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  PORT: port(3000),
  HOST: z.string().default('127.0.0.1'),
  DATA_DIR: z.string().default('./data'),
  DATABASE_URL: optionalString,
  PG_PORT: port(5433),
  TEMPORAL_ADDRESS: optionalString,
  TEMPORAL_NAMESPACE: z.string().default('default'),
  TEMPORAL_PORT: port(7233),
  TEMPORAL_UI_PORT: port(8233),
  TEMPORAL_CLI_PATH: optionalString,
  TASK_QUEUE_PREFIX: z.string().default(''),
  DEV_API_KEY: optionalString,
  DEV_ADMIN_KEY: optionalString,
  /** base64 of 32 bytes; dev derives one under DATA_DIR when unset. */
  ENCRYPTION_KEY: optionalString,
  ENCRYPTION_KEY_ID: z.string().default('k1'),
  STRIPE_WEBHOOK_SECRET: optionalString,
  STRIPE_SECRET_KEY: optionalString,
  ANTHROPIC_API_KEY: optionalString,
  GOOGLE_API_KEY: optionalString,
  CLOUDINARY_URL: optionalString,
  CORS_ORIGINS: optionalString,
});

export type Config = z.infer<typeof ConfigSchema> & { dataDir: string };

/** Thrown for a configuration problem; entry points print its message as one line. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = ConfigSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(`invalid environment variable ${String(issue?.path[0])}: ${issue?.message}`);
  }
  return { ...parsed.data, dataDir: resolve(parsed.data.DATA_DIR) };
}
