import type { ActivityDeps } from './deps';
import { createRunActivities } from './runs';
import { createSmokeActivities } from './smoke';

/** All activities of the main task queue, built from one set of dependencies. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createRunActivities(deps),
    ...createSmokeActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
export type { ActivityDeps } from './deps';
