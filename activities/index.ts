import { createBillingActivities } from './billing';
import type { ActivityDeps } from './deps';
import { createPostActivities } from './posts';
import { createRunActivities } from './runs';
import { createSmokeActivities } from './smoke';
import { createThumbnailActivities } from './thumbnails';
import { createVideoImportActivities } from './video-import';

/** All activities of the main task queue, built from one set of dependencies. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createBillingActivities(deps),
    ...createPostActivities(deps),
    ...createRunActivities(deps),
    ...createSmokeActivities(deps),
    ...createThumbnailActivities(deps),
    ...createVideoImportActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
export type { ActivityDeps } from './deps';
