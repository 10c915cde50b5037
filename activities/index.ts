import { createAdminGrantActivities } from './admin-grants';
import { createAffiliateActivities } from './affiliates';
import { createBillingActivities } from './billing';
import { createChannelSyncActivities } from './channel-sync';
import { createClipActivities, createClipMediaActivities, type ClipMediaActivityDeps } from './clips';
import { createContentPlanActivities } from './content-plans';
import { createCreditExpiryActivities } from './credit-expiry';
import { createCreditActivities } from './credits';
import type { ActivityDeps } from './deps';
import { createPostActivities } from './posts';
import { createProviderJobActivities } from './provider-jobs';
import { createProductActivities, createProductMediaActivities } from './products';
import { createRetentionActivities } from './retention';
import { createRunActivities } from './runs';
import { createSmokeActivities } from './smoke';
import { createSocialEngagementActivities } from './social-engagement';
import { createSselfieActivities, createSselfieMediaActivities } from './sselfie';
import { createPhotoshootActivities, createPhotoshootMediaActivities } from './sselfie-photoshoots';
import { createSubscriptionCleanupActivities } from './subscription-cleanup';
import { createThumbnailActivities, createThumbnailMediaActivities } from './thumbnails';
import { withMeteredUsage } from './usage-metering';
import { createVideoImportActivities } from './video-import';
import { createVideoIngestActivities, createVideoIngestMediaActivities, type IngestMediaActivityDeps } from './video-ingest';
import { createWebhookActivities } from './webhooks';

/** All activities of the main task queue, built from one set of dependencies (what they meter is recorded: usage-metering.ts). */
export function createActivities(deps: ActivityDeps) {
  return withMeteredUsage(deps.db, {
    ...createAdminGrantActivities(deps),
    ...createAffiliateActivities(deps),
    ...createBillingActivities(deps),
    ...createChannelSyncActivities(deps),
    ...createClipActivities(deps),
    ...createContentPlanActivities(deps),
    ...createCreditActivities(deps),
    ...createCreditExpiryActivities(deps),
    ...createPostActivities(deps),
    ...createProviderJobActivities(deps),
    ...createProductActivities(deps),
    ...createRetentionActivities(deps),
    ...createRunActivities(deps),
    ...createSmokeActivities(deps),
    ...createSocialEngagementActivities(deps),
    ...createSselfieActivities(deps),
    ...createPhotoshootActivities(deps),
    ...createSubscriptionCleanupActivities(deps),
    ...createThumbnailActivities(deps),
    ...createVideoImportActivities(deps),
    ...createVideoIngestActivities(deps),
    ...createWebhookActivities(deps),
  });
}

export type Activities = ReturnType<typeof createActivities>;

/** What the media worker's activities need beyond ActivityDeps: the media store (and optional toolkit, URL guard, temp dir). */
export type MediaActivityDeps = ClipMediaActivityDeps & IngestMediaActivityDeps;

/** Activities of the media task queue: CPU-bound ffmpeg work, polled by a worker with few slots. */
export function createMediaActivities(deps: MediaActivityDeps) {
  return withMeteredUsage(deps.db, {
    ...createClipMediaActivities(deps),
    ...createProductMediaActivities(deps),
    ...createSselfieMediaActivities(deps),
    ...createPhotoshootMediaActivities(deps),
    ...createThumbnailMediaActivities(deps),
    ...createVideoIngestMediaActivities(deps),
  });
}

export type MediaActivities = ReturnType<typeof createMediaActivities>;
export type { ActivityDeps } from './deps';
