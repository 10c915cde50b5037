import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { z } from 'zod';

/** A port number from the environment, or the default. */
const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));
/** `true` or `false`; unset or empty is false. */
const flag = optionalString.pipe(z.enum(['true', 'false']).optional()).transform((v) => v === 'true');

const ConfigSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** OpenTelemetry traces (lib/tracing.ts): an OTLP/HTTP endpoint turns them on; the exporter reads the other OTEL_* variables itself. */
  OTEL_EXPORTER_OTLP_ENDPOINT: optionalString,
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: optionalString,
  OTEL_TRACES_EXPORTER: optionalString,
  /** The OTel spec's boolean: `true` in any case disables, anything else does not. */
  OTEL_SDK_DISABLED: optionalString.transform((v) => v?.toLowerCase() === 'true'),
  PORT: port(3000),
  HOST: z.string().default('127.0.0.1'),
  /**
   * Prometheus metrics: our registries (API requests, runs, activities, providers, AI, ffmpeg) on
   * METRICS_PORT, the Temporal SDK's own worker metrics on TEMPORAL_METRICS_PORT, both at /metrics on
   * METRICS_HOST. Unset or empty = off; npm start, npm run worker and npm run api default them on.
   */
  METRICS_PORT: optionalString.pipe(z.coerce.number<string>().int().min(0).max(65535).optional()),
  TEMPORAL_METRICS_PORT: optionalString.pipe(z.coerce.number<string>().int().min(1).max(65535).optional()),
  /** npm start's Temporal dev server's own metrics (`--metrics-port`); unset or empty = a random port, not recorded. */
  TEMPORAL_SERVER_METRICS_PORT: optionalString.pipe(z.coerce.number<string>().int().min(1).max(65535).optional()),
  METRICS_HOST: z.string().default('127.0.0.1'),
  DATA_DIR: z.string().default('./data'),
  DATABASE_URL: optionalString,
  PG_PORT: port(5433),
  TEMPORAL_ADDRESS: optionalString,
  TEMPORAL_NAMESPACE: z.string().default('default'),
  TEMPORAL_PORT: port(7233),
  TEMPORAL_UI_PORT: port(8233),
  TEMPORAL_CLI_PATH: optionalString,
  TASK_QUEUE_PREFIX: z.string().default(''),
  /** A prebuilt workflow bundle (bundleWorkflowCode output): the worker starts without webpack. */
  WORKFLOW_BUNDLE_PATH: optionalString,
  /** Workflows the main worker keeps in memory between tasks; unset = the SDK's default (from heap size); 0 replays every task. */
  WORKER_MAX_CACHED_WORKFLOWS: optionalString.pipe(z.coerce.number<string>().int().min(0).optional()),
  DEV_API_KEY: optionalString,
  DEV_ADMIN_KEY: optionalString,
  /** base64 of 32 bytes; dev derives one under DATA_DIR when unset. */
  ENCRYPTION_KEY: optionalString,
  ENCRYPTION_KEY_ID: z.string().default('k1'),
  /** Temporal payload encryption keys `<keyId>:<base64 of 32 bytes>,...` (first encrypts); dev generates one under DATA_DIR when unset. */
  PAYLOAD_ENCRYPTION_KEYS: optionalString,
  /** Bearer token of the codec server (POST /codec/encode|decode); unset with CODEC_UI_ORIGINS unset = no codec server. */
  CODEC_TOKEN: optionalString,
  /** Temporal Web UI origins whose browser requests the codec server accepts without a token (comma-separated). */
  CODEC_UI_ORIGINS: optionalString,
  /** The signing secret of the Stripe webhook endpoint; required with STRIPE_SECRET_KEY, generated under DATA_DIR for the sandbox. */
  STRIPE_WEBHOOK_SECRET: optionalString,
  STRIPE_SECRET_KEY: optionalString,
  /** Production refuses sandbox providers (unset keys) unless this is true: a demo stack on purpose. */
  ALLOW_SANDBOX_PROVIDERS: flag,
  /**
   * Which hops may set X-Forwarded-For/-Proto and X-Request-Id: unset (no proxy, the default), a hop
   * count, or addresses/subnets/`loopback`/`uniquelocal` separated by commas (Express `trust proxy`).
   */
  TRUST_PROXY: optionalString,
  ANTHROPIC_API_KEY: optionalString,
  GOOGLE_API_KEY: optionalString,
  CLOUDINARY_URL: optionalString,
  /** claude-sonnet-4-5 reaches end-of-life on 2026-11-30 (SDK deprecation list), hence 4-6. */
  ANTHROPIC_MODEL: z.string().default('claude-sonnet-4-6'),
  ANTHROPIC_TIMEOUT_MS: z.coerce.number().int().positive().default(120_000),
  /** Model calls in flight per worker: 10 lets one import's content types run at once; 429s slow it via Retry-After. */
  ANTHROPIC_MAX_CONCURRENCY: z.coerce.number().int().positive().default(10),
  /** JSON `{ "model": { "input": usdPerMTok, "output": usdPerMTok } }` merged over ANTHROPIC_PRICES. */
  ANTHROPIC_PRICES_JSON: optionalString,
  /** Which Google Cloud project GOOGLE_API_KEY and the OAuth client belong to: quota is counted per project. */
  GOOGLE_PROJECT_KEY: z.string().default('default'),
  GOOGLE_CLIENT_ID: optionalString,
  GOOGLE_CLIENT_SECRET: optionalString,
  GOOGLE_MAX_CONCURRENCY: z.coerce.number().int().positive().default(8),
  YOUTUBE_DAILY_QUOTA: z.coerce.number().int().positive().default(10_000),
  /** Where the Stripe sandbox delivers signed webhooks; default http://127.0.0.1:<PORT>/v1/webhooks/stripe. */
  STRIPE_SANDBOX_WEBHOOK_URL: optionalString,
  /** JSON `{ "instagram": { "clientId", "clientSecret" }, ... }` for instagram, facebook, tiktok, linkedin, x; unset = social sandbox. */
  SOCIAL_CLIENTS_JSON: optionalString,
  /** Ayrshare Primary Profile API key (users connect their own profile keys); unset = Ayrshare sandbox. */
  AYRSHARE_API_KEY: optionalString,
  /** Freepik API key (AI image and image-to-video tasks); unset = Freepik sandbox. */
  FREEPIK_API_KEY: optionalString,
  FREEPIK_API_URL: z.string().default('https://api.freepik.com'),
  /** Milliseconds between two requests to one site without a scraping_rules row (all workers together). */
  SCRAPE_DEFAULT_DELAY_MS: z.coerce.number().int().min(0).max(600_000).default(1000),
  /** How long one page or image request of a scrape may take. */
  SCRAPE_TIMEOUT_MS: z.coerce.number().int().positive().default(15_000),
  /** First and longest interval between two polls of a Freepik task (doubling in between). */
  FREEPIK_POLL_INITIAL_MS: z.coerce.number().int().positive().default(2_000),
  FREEPIK_POLL_MAX_MS: z.coerce.number().int().positive().default(120_000),
  /** Replicate API token (LoRA trainings, image predictions); unset = Replicate sandbox. */
  REPLICATE_API_TOKEN: optionalString,
  /** The `whsec_` secret Replicate signs webhooks with; unset = read once from Replicate (GET /v1/webhooks/default/secret). */
  REPLICATE_WEBHOOK_SECRET: optionalString,
  /** The trainer `owner/name:version` fine-tuning a personal model (needed with REPLICATE_API_TOKEN). */
  REPLICATE_TRAINER: z.string().default('ostris/flux-dev-lora-trainer:sandbox'),
  /** The Replicate account new personal models are created under (`<owner>/sselfie-<modelId>`). */
  REPLICATE_MODEL_OWNER: z.string().default('sselfie'),
  /** The image-to-video model `owner/name:version` animating a generated image (SSELFIE animations). */
  REPLICATE_ANIMATION_MODEL: z.string().default('wan-video/wan-2.2-i2v-fast:sandbox'),
  /** AssemblyAI API key (ClipFlow speech-to-text); unset = AssemblyAI sandbox. */
  ASSEMBLYAI_API_KEY: optionalString,
  /** The value AssemblyAI echoes in our webhook auth header; unset = a random one kept in DATA_DIR (API and workers must share it). */
  ASSEMBLYAI_WEBHOOK_SECRET: optionalString,
  /** Polling of long provider jobs when no webhook arrives: first interval, doubling up to the max (ms). */
  PROVIDER_POLL_INITIAL_MS: z.coerce.number().int().positive().default(2_000),
  PROVIDER_POLL_MAX_MS: z.coerce.number().int().positive().default(120_000),
  /** How this API is reached from outside: providers send job webhooks to <it>/v1/webhooks/<provider>; default http://127.0.0.1:<PORT>. */
  PUBLIC_BASE_URL: optionalString,
  /** Resend-style mail API key; unset = email sandbox (messages captured, nothing sent). */
  EMAIL_API_KEY: optionalString,
  EMAIL_API_URL: z.string().default('https://api.resend.com'),
  EMAIL_FROM: z.string().default('Creator Platform <no-reply@example.com>'),
  CORS_ORIGINS: optionalString,
  /** Requests per minute per client IP without a valid API key (public routes, failed authentication). */
  ANONYMOUS_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().positive().default(120),
  /** JSON { provider: url } of running sandboxes, for `npm run worker` / `npm run api` in a dev or test stack. */
  SANDBOX_URLS: optionalString,
  /** Days a past-due subscription keeps its plan before dropping to free. */
  BILLING_GRACE_PERIOD_DAYS: z.coerce.number().int().min(0).max(90).default(14),
  /** host or host:port list user-supplied URLs may reach over http / on private addresses (local sandboxes); ignored in production. */
  SSRF_ALLOWED_HOSTS: optionalString,
  /** Where /r/<code> sends visitors (the product's landing page); the code travels as ?ref= and a cookie. */
  AFFILIATE_LANDING_URL: z.string().default('/'),
  /** Days a paid invoice can still be refunded: its commission stays pending until then. */
  AFFILIATE_REFUND_WINDOW_DAYS: z.coerce.number().int().min(0).default(30),
  /** Eligible balance an affiliate needs to be paid; smaller balances carry over to the next month. */
  AFFILIATE_MIN_PAYOUT_CENTS: z.coerce.number().int().min(1).default(5_000),
  /** Outgoing webhooks: one attempt's time limit, and the exponential backoff (30 s doubling to 8 h, 19 attempts ≈ 3 days). */
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  WEBHOOK_RETRY_INITIAL_INTERVAL_MS: z.coerce.number().int().min(10).default(30_000),
  WEBHOOK_RETRY_MAX_INTERVAL_MS: z.coerce.number().int().min(10).default(28_800_000),
  WEBHOOK_RETRY_MAX_ATTEMPTS: z.coerce.number().int().min(1).default(19),
  /** Consecutive failed attempts (across an endpoint's deliveries) that disable it, with one email to its owner. */
  WEBHOOK_DISABLE_AFTER_FAILURES: z.coerce.number().int().min(1).default(25),
  /** Retention (the daily `retention` Schedule): ages after which rows are deleted. Closed job_runs (seed 002: background jobs 30 days). */
  RETENTION_JOB_RUNS_DAYS: z.coerce.number().positive().default(30),
  /** Answered Idempotency-Keys: a retry after this long starts anew (Stripe keeps its keys ~24 h). */
  RETENTION_IDEMPOTENCY_KEYS_HOURS: z.coerce.number().positive().default(24),
  /** Outgoing webhook attempt logs of deliveries no longer pending. */
  RETENTION_WEBHOOK_LOGS_DAYS: z.coerce.number().positive().default(30),
  /** Per-call AI usage logs (seed 002: API usage 90 days); the daily ai_usage_analytics totals are kept. */
  RETENTION_USAGE_DAYS: z.coerce.number().positive().default(90),
  /** The usage ledger behind cost per tenant: longer than a yearly billing period. */
  RETENTION_USAGE_EVENTS_DAYS: z.coerce.number().positive().default(400),
  /** Audit log (seed 002: user activity 2 years). */
  RETENTION_AUDIT_LOG_DAYS: z.coerce.number().positive().default(730),
  /** Rows per DELETE statement. */
  RETENTION_BATCH_SIZE: z.coerce.number().int().min(1).max(100_000).default(1000),
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

/**
 * USD per million tokens, per Anthropic model; unknown models cost 0 and are logged.
 * claude-sonnet-4-6 is assumed to keep Sonnet's $3/$15; override with ANTHROPIC_PRICES_JSON.
 */
export const ANTHROPIC_PRICES: Record<string, { input: number; output: number }> = {
  'claude-opus-4-5': { input: 5, output: 25 },
  'claude-opus-4-1': { input: 15, output: 75 },
  'claude-sonnet-4-6': { input: 3, output: 15 },
  'claude-sonnet-4-5': { input: 3, output: 15 },
  'claude-sonnet-4': { input: 3, output: 15 },
  'claude-haiku-4-5': { input: 1, output: 5 },
  'claude-3-5-haiku-latest': { input: 0.8, output: 4 },
};

/** ANTHROPIC_PRICES with the ANTHROPIC_PRICES_JSON overrides applied. */
export function anthropicPrices(config: Pick<Config, 'ANTHROPIC_PRICES_JSON'>): Record<string, { input: number; output: number }> {
  if (!config.ANTHROPIC_PRICES_JSON) return ANTHROPIC_PRICES;
  let raw: unknown;
  try {
    raw = JSON.parse(config.ANTHROPIC_PRICES_JSON);
  } catch {
    raw = undefined;
  }
  const parsed = z.record(z.string(), z.object({ input: z.number().nonnegative(), output: z.number().nonnegative() })).safeParse(raw);
  if (!parsed.success) throw new ConfigError('invalid ANTHROPIC_PRICES_JSON: expected { model: { input, output } } in USD/MTok');
  return { ...ANTHROPIC_PRICES, ...parsed.data };
}

/** Parses SANDBOX_URLS ({"google":"http://127.0.0.1:4001",...}); a malformed value is a ConfigError. */
export function sandboxUrlsFrom(config: Pick<Config, 'SANDBOX_URLS'>): Record<string, string> {
  if (!config.SANDBOX_URLS) return {};
  try {
    const parsed = z.record(z.string(), z.url()).parse(JSON.parse(config.SANDBOX_URLS));
    return parsed;
  } catch {
    throw new ConfigError('invalid environment variable SANDBOX_URLS: expected JSON {"provider":"http://host:port"}');
  }
}

/**
 * Sandbox providers stand in for unset keys in development and tests. Production refuses them, so
 * a forgotten key never turns into a local emulator (or a sandbox webhook secret), unless
 * ALLOW_SANDBOX_PROVIDERS=true says the stack is a demo on purpose.
 */
export function refuseSandboxInProduction(config: Pick<Config, 'NODE_ENV' | 'ALLOW_SANDBOX_PROVIDERS'>, keyName: string): void {
  if (config.NODE_ENV === 'production' && !config.ALLOW_SANDBOX_PROVIDERS)
    throw new ConfigError(`${keyName} is required in production (sandbox providers are refused unless ALLOW_SANDBOX_PROVIDERS=true)`);
}

/** The running sandbox that stands in for provider `name`, whose key `keyName` is unset. */
export function sandboxUrlFor(
  config: Pick<Config, 'NODE_ENV' | 'ALLOW_SANDBOX_PROVIDERS'>,
  sandboxUrls: Record<string, string>,
  name: string,
  keyName: string,
): string {
  refuseSandboxInProduction(config, keyName);
  const url = sandboxUrls[name];
  if (!url) throw new ConfigError(`${keyName} is not set and no ${name} sandbox is running`);
  return url;
}

const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/**
 * TRUST_PROXY as Express's `trust proxy` setting: false (no proxy: the default), a hop count, or
 * addresses/subnets. `true` (trust every hop) is refused: any client could then pick its own IP.
 */
export function trustProxySetting(config: Pick<Config, 'TRUST_PROXY'>): false | number | string[] {
  const value = config.TRUST_PROXY;
  if (value === undefined || value === 'false') return false;
  if (/^\d+$/.test(value)) return Number(value);
  const entries = value.split(',').map((entry) => entry.trim());
  for (const entry of entries) {
    const [address = '', prefix] = entry.split('/');
    if (!PROXY_NAMES.has(entry) && !(isIP(address) && (prefix === undefined || /^\d{1,3}$/.test(prefix))))
      throw new ConfigError(
        `invalid environment variable TRUST_PROXY: "${entry}" is not a hop count, an address, a subnet or one of ${[...PROXY_NAMES].join(', ')}`,
      );
  }
  return entries;
}
