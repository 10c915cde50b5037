import type { Db } from '../db/database';
import type { Logger } from '../lib/logger';
import type { WorkerMetrics } from '../lib/metrics';
import type { AffiliatePolicy } from '../schemas/affiliates';
import type { SecretBox } from '../lib/secrets';
import type { Providers } from '../providers';
import type { ContentPlanScheduler } from '../schemas/content-plans';
import type { PostRunControl } from '../schemas/subscription-cleanup';
import type { WebhookDispatch } from '../schemas/webhooks';
import type { SocialAccountSchedules } from '../schemas/social-insights';
import type { UrlGuardOptions } from '../lib/ssrf';

/** What activity factories receive from the composition root (worker) or from tests. */
export interface ActivityDeps {
  db: Db;
  logger: Logger;
  providers: Providers;
  /** Opens and seals stored OAuth tokens (lib/secrets.ts); activities that need it fail without it. */
  secrets?: SecretBox;
  /** Affiliate program rules (refund window, minimum payout); defaults when unset. */
  affiliatePolicy?: Partial<AffiliatePolicy>;
  /** Creates and removes users' content-plan Schedules (the worker's Temporal client); without it schedules are left alone. */
  contentPlanSchedules?: ContentPlanScheduler;
  /** Cancels posts through their runs (the worker's Temporal client), for the subscription clean-up run. */
  postRuns?: PostRunControl;
  /** Pauses a revoked social account's Schedules (the worker's Temporal client); without it they are left running. */
  socialSchedules?: SocialAccountSchedules;
  /** Starts outgoing webhook delivery runs (the worker's Temporal client); without it the relay sweep starts them. */
  webhookDispatch?: WebhookDispatch;
  /** Guard options for customer URLs the main worker calls (webhook endpoints). */
  urlGuard?: UrlGuardOptions;
  /** The worker's metrics (ffmpeg CPU of the media activities; runs and activities are metered by the worker's interceptors). */
  metrics?: WorkerMetrics;
}
