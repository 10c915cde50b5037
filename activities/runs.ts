import { closeRun, registerRun, updateRunProgress, type RunClosure } from '../db/repositories/runs';
import type { ActivityDeps } from './deps';

export interface RunStartedInput {
  id: string;
  type: string;
  userId: string | null;
  domainId: string | null;
}

/** Keeps job_runs true for every workflow; each call is an idempotent upsert/update. */
export function createRunActivities({ db }: Pick<ActivityDeps, 'db'>) {
  return {
    async recordRunStarted(run: RunStartedInput): Promise<void> {
      await registerRun(db, run);
    },
    async recordRunProgress(id: string, p: { stage: string; progress: number }): Promise<void> {
      await updateRunProgress(db, id, p.stage, p.progress);
    },
    async recordRunClosed(id: string, closure: RunClosure): Promise<void> {
      await closeRun(db, id, closure);
    },
  };
}

export type RunActivities = ReturnType<typeof createRunActivities>;
