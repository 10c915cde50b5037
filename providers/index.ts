import type { Db } from '../db/database';
import { anthropicPrices, ConfigError, sandboxUrlFor, type Config } from '../lib/config';
import { SANDBOX_CREDENTIALS } from '../lib/sandbox-credentials';
import { loadAssemblyAiWebhookSecret } from '../lib/secrets';
import type { Logger } from '../lib/logger';
import type { ProviderMetrics } from '../lib/metrics';
import { createAnthropicAdapter, type AnthropicAdapter } from './anthropic';
import { AssemblyAiAdapter } from './assemblyai';
import { providerCall } from './call';
import { CloudinaryAdapter, parseCloudinaryUrl } from './cloudinary';
import { AyrshareClient, PRODUCTION_AYRSHARE_URL } from './social/ayrshare';
import { HttpMailer, type Mailer } from './email';
import type { ProviderJobClient, ProviderWebhookVerifier } from './jobs';
import { ReplicateAdapter } from './replicate';
import { FreepikAdapter } from './freepik';
import { WebPages } from './web-pages';
import { urlGuardOptions } from '../lib/ssrf';
import { createGoogleAuthAdapter, type GoogleAuthAdapter } from './google/auth';
import { createDriveAdapter, type DriveAdapter } from './google/drive';
import { ProviderLimits, systemClock } from './rate-limit';
import {
  createSocialPublishers,
  parseSocialClients,
  PRODUCTION_SOCIAL_ENDPOINTS,
  sandboxSocialEndpoints,
  type SocialPublishers,
} from './social';
import { createStripeClient, StripeAdapter } from './stripe';
import { createYoutubeAdapter, type YoutubeAdapter } from './youtube/adapter';
import { QuotaBudget } from './youtube/quota';

/**
 * Every external provider adapter, built once per worker process. Each points at the real
 * service when its key is configured, or at its local sandbox (URL from `sandboxUrls`).
 */
export interface Providers {
  youtube: YoutubeAdapter;
  drive: DriveAdapter;
  googleAuth: GoogleAuthAdapter;
  anthropic: AnthropicAdapter;
  stripe: StripeAdapter;
  cloudinary: CloudinaryAdapter;
  /** Instagram, Facebook, TikTok, LinkedIn and X publishers; YouTube publishing is `youtube` (googleapis). */
  social: SocialPublishers;
  /** Ayrshare: posts through a user's Ayrshare profile (an account of platform `ayrshare`). */
  ayrshare: AyrshareClient;
  mailer: Mailer;
  /** Freepik's AI task API: product stills and image-to-video. */
  freepik: FreepikAdapter;
  /** Other sites' pages and images (product scrapes, provider outputs): SSRF-guarded, robots.txt, per-domain pace. */
  webPages: WebPages;
  /** Replicate: LoRA trainings and image predictions (long provider jobs). */
  replicate: ReplicateAdapter;
  /** AssemblyAI: speech-to-text of ingested videos (long provider jobs). */
  assemblyai: AssemblyAiAdapter;
  /** The adapter polling and cancelling long jobs of `provider` (provider_jobs.provider); throws for a provider without jobs. */
  jobClient(provider: string): ProviderJobClient;
  /** The verifier of `provider`'s signed job webhooks (POST /v1/webhooks/:provider), or undefined when it sends none. */
  webhookVerifier(provider: string): ProviderWebhookVerifier | undefined;
}

export interface ProviderContext {
  config: Config;
  logger: Logger;
  /** Provider name → sandbox base URL, for providers running sandboxed. */
  sandboxUrls: Record<string, string>;
  /** Quota counters and AI usage logs are written here. */
  db: Db;
  /** Call latency and failures by provider, AI tokens and cost (the worker's metrics); none recorded without. */
  metrics?: ProviderMetrics;
}

function once<T>(build: () => T): () => T {
  let built: T | undefined;
  return () => (built ??= build());
}

export function createProviders(ctx: ProviderContext): Providers {
  const { config, logger, db } = ctx;
  const limits = new ProviderLimits({
    youtube: config.GOOGLE_MAX_CONCURRENCY,
    'google-drive': config.GOOGLE_MAX_CONCURRENCY,
    'google-oauth': config.GOOGLE_MAX_CONCURRENCY,
    anthropic: config.ANTHROPIC_MAX_CONCURRENCY,
  });
  /** Each provider's calls: under its limiter, classified, timed in the metrics. */
  const limitedCall = (provider: string) => providerCall(limits.for(provider), ctx.metrics);
  const sandboxUrl = (name: string, keyName: string): string => sandboxUrlFor(config, ctx.sandboxUrls, name, keyName);
  /** Google: the real APIs when GOOGLE_API_KEY is set, else one sandbox serving YouTube, Drive and the token endpoint. */
  const google = () => {
    if (config.GOOGLE_API_KEY)
      return {
        apiKey: config.GOOGLE_API_KEY,
        rootUrl: undefined,
        tokenUrl: undefined,
        revokeUrl: undefined,
        clientId: config.GOOGLE_CLIENT_ID,
        clientSecret: config.GOOGLE_CLIENT_SECRET,
      };
    const url = sandboxUrl('google', 'GOOGLE_API_KEY');
    return {
      apiKey: 'sandbox-api-key',
      rootUrl: `${url}/`,
      tokenUrl: `${url}/token`,
      revokeUrl: `${url}/revoke`,
      clientId: 'sandbox-client-id',
      clientSecret: 'sandbox-client-secret',
    };
  };

  const youtube = once(() =>
    createYoutubeAdapter({
      ...google(),
      quota: new QuotaBudget({
        db,
        provider: 'youtube',
        projectKey: config.GOOGLE_PROJECT_KEY,
        dailyBudget: config.YOUTUBE_DAILY_QUOTA,
        clock: systemClock,
      }),
      call: limitedCall('youtube'),
    }),
  );
  const drive = once(() => createDriveAdapter({ rootUrl: google().rootUrl, call: limitedCall('google-drive') }));
  const googleAuth = once(() => {
    const { clientId, clientSecret, tokenUrl, revokeUrl } = google();
    if (!clientId || !clientSecret)
      throw new ConfigError('GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET are required to refresh Google tokens');
    return createGoogleAuthAdapter({ clientId, clientSecret, tokenUrl, revokeUrl, call: limitedCall('google-oauth') });
  });
  const anthropic = once(() =>
    createAnthropicAdapter({
      apiKey: config.ANTHROPIC_API_KEY ?? 'sandbox-api-key',
      baseURL: config.ANTHROPIC_API_KEY ? undefined : sandboxUrl('anthropic', 'ANTHROPIC_API_KEY'),
      timeoutMs: config.ANTHROPIC_TIMEOUT_MS,
      defaultModel: config.ANTHROPIC_MODEL,
      prices: anthropicPrices(config),
      db,
      logger: logger.child({ provider: 'anthropic' }),
      call: limitedCall('anthropic'),
      metrics: ctx.metrics,
    }),
  );

  const stripe = once(
    () =>
      new StripeAdapter(
        createStripeClient(
          config.STRIPE_SECRET_KEY ?? SANDBOX_CREDENTIALS.stripeSecretKey,
          config.STRIPE_SECRET_KEY ? undefined : sandboxUrl('stripe', 'STRIPE_SECRET_KEY'),
        ),
        limitedCall('stripe'),
      ),
  );
  const cloudinary = once(() => {
    const call = limitedCall('cloudinary');
    if (config.CLOUDINARY_URL) return new CloudinaryAdapter(parseCloudinaryUrl(config.CLOUDINARY_URL), call);
    const url = sandboxUrl('cloudinary', 'CLOUDINARY_URL');
    return new CloudinaryAdapter({ ...SANDBOX_CREDENTIALS.cloudinary, uploadPrefix: url, deliveryHost: new URL(url).host }, call);
  });
  const social = once(() => {
    const clients = parseSocialClients(config.SOCIAL_CLIENTS_JSON);
    const sandboxClient = SANDBOX_CREDENTIALS.social;
    return createSocialPublishers({
      endpoints: clients ? PRODUCTION_SOCIAL_ENDPOINTS : sandboxSocialEndpoints(sandboxUrl('social', 'SOCIAL_CLIENTS_JSON')),
      clients: clients ?? {
        instagram: sandboxClient,
        facebook: sandboxClient,
        tiktok: sandboxClient,
        linkedin: sandboxClient,
        x: sandboxClient,
      },
      callFor: (platform) => limitedCall(platform),
    });
  });
  const ayrshare = once(
    () =>
      new AyrshareClient({
        baseUrl: config.AYRSHARE_API_KEY ? PRODUCTION_AYRSHARE_URL : sandboxUrl('ayrshare', 'AYRSHARE_API_KEY'),
        apiKey: config.AYRSHARE_API_KEY ?? SANDBOX_CREDENTIALS.ayrshareApiKey,
        call: limitedCall('ayrshare'),
      }),
  );
  const freepik = once(
    () =>
      new FreepikAdapter(
        {
          baseUrl: config.FREEPIK_API_KEY ? config.FREEPIK_API_URL : sandboxUrl('freepik', 'FREEPIK_API_KEY'),
          apiKey: config.FREEPIK_API_KEY ?? SANDBOX_CREDENTIALS.freepikApiKey,
        },
        limitedCall('freepik'),
      ),
  );
  // Running sandboxes (the shop, Freepik's file host) are reachable like public sites outside production.
  const sandboxHosts = Object.values(ctx.sandboxUrls).map((url) => new URL(url).host);
  const webPages = once(
    () =>
      new WebPages({
        db,
        guard: urlGuardOptions(config, sandboxHosts),
        call: limitedCall('web'),
        clock: systemClock,
        defaultDelayMs: config.SCRAPE_DEFAULT_DELAY_MS,
        timeoutMs: config.SCRAPE_TIMEOUT_MS,
      }),
  );
  const replicate = once(() => {
    const call = limitedCall('replicate');
    const shared = {
      webhookUrl: `${config.PUBLIC_BASE_URL ?? `http://127.0.0.1:${config.PORT}`}/v1/webhooks/replicate`,
      trainer: config.REPLICATE_TRAINER,
      modelOwner: config.REPLICATE_MODEL_OWNER,
      animationModel: config.REPLICATE_ANIMATION_MODEL,
      call,
    };
    if (config.REPLICATE_API_TOKEN)
      return new ReplicateAdapter({ ...shared, auth: config.REPLICATE_API_TOKEN, webhookSecret: config.REPLICATE_WEBHOOK_SECRET });
    const baseUrl = `${sandboxUrl('replicate', 'REPLICATE_API_TOKEN')}/v1`;
    return new ReplicateAdapter({ ...shared, auth: SANDBOX_CREDENTIALS.replicateApiToken, baseUrl });
  });
  const assemblyai = once(() => {
    const shared = {
      call: limitedCall('assemblyai'),
      webhookUrl: `${config.PUBLIC_BASE_URL ?? `http://127.0.0.1:${config.PORT}`}/v1/webhooks/assemblyai`,
      webhookSecret: loadAssemblyAiWebhookSecret(config),
    };
    if (config.ASSEMBLYAI_API_KEY) return new AssemblyAiAdapter({ ...shared, apiKey: config.ASSEMBLYAI_API_KEY });
    return new AssemblyAiAdapter({
      ...shared,
      apiKey: SANDBOX_CREDENTIALS.assemblyAiApiKey,
      baseUrl: sandboxUrl('assemblyai', 'ASSEMBLYAI_API_KEY'),
    });
  });
  const mailer = once(
    () =>
      new HttpMailer(
        {
          baseUrl: config.EMAIL_API_KEY ? config.EMAIL_API_URL : sandboxUrl('email', 'EMAIL_API_KEY'),
          apiKey: config.EMAIL_API_KEY ?? SANDBOX_CREDENTIALS.emailApiKey,
          from: config.EMAIL_FROM,
        },
        limitedCall('email'),
      ),
  );

  // Adapters are built on first use, so a worker that never calls a provider needs neither its key nor its sandbox.
  return {
    get youtube() {
      return youtube();
    },
    get drive() {
      return drive();
    },
    get googleAuth() {
      return googleAuth();
    },
    get anthropic() {
      return anthropic();
    },
    get stripe() {
      return stripe();
    },
    get cloudinary() {
      return cloudinary();
    },
    get social() {
      return social();
    },
    get ayrshare() {
      return ayrshare();
    },
    get mailer() {
      return mailer();
    },
    get freepik() {
      return freepik();
    },
    get webPages() {
      return webPages();
    },
    get replicate() {
      return replicate();
    },
    get assemblyai() {
      return assemblyai();
    },
    jobClient(provider) {
      if (provider === 'replicate') return replicate();
      if (provider === 'freepik') return freepik();
      if (provider === 'assemblyai') return assemblyai();
      throw new Error(`no provider-job client for provider ${provider}`);
    },
    webhookVerifier(provider) {
      if (provider === 'replicate') return replicate();
      if (provider === 'assemblyai') return assemblyai();
      return undefined;
    },
  };
}
