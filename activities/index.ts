import { createAdminGrantActivities } from './admin-grants';
import { createAffiliateActivities } from './affiliates';
import { createBillingActivities } from './billing';
import { createChannelSyncActivities } from './channel-sync';
import { createClipActivities, createClipMediaActivities, type ClipMediaActivityDeps } from './clips';
import { createCreditActivities } from './credits';
import type { ActivityDeps } from './deps';
import { createPostActivities } from './posts';
import { createRunActivities } from './runs';
import { createSmokeActivities } from './smoke';
import { createThumbnailActivities, createThumbnailMediaActivities } from './thumbnails';
import { createVideoImportActivities } from './video-import';

/** All activities of the main task queue, built from one set of dependencies. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createAdminGrantActivities(deps),
    ...createAffiliateActivities(deps),
    ...createBillingActivities(deps),
    ...createChannelSyncActivities(deps),
    ...createClipActivities(deps),
    ...createCreditActivities(deps),
    ...createPostActivities(deps),
    ...createRunActivities(deps),
    ...createSmokeActivities(deps),
    ...createThumbnailActivities(deps),
    ...createVideoImportActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;

/** What the media worker's activities need beyond ActivityDeps: the media store (and optional toolkit, URL guard, temp dir). */
export type MediaActivityDeps = ClipMediaActivityDeps;

/** Activities of the media task queue: CPU-bound ffmpeg work, polled by a worker with few slots. */
export function createMediaActivities(deps: MediaActivityDeps) {
  return {
    ...createClipMediaActivities(deps),
    ...createThumbnailMediaActivities(deps),
  };
}

export type MediaActivities = ReturnType<typeof createMediaActivities>;
export type { ActivityDeps } from './deps';
