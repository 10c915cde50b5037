import { closeRun, registerRun, saveRunProgress, type RunClosure } from '../db/repositories/runs';
import type { RunProgressWrite } from '../schemas/runs';
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
    /**
     * Stage and progress, with the domain row when one is named. Workflows run it as a local
     * activity (no server round trip); runs started before that called it without a row.
     */
    async recordRunProgress(id: string, write: RunProgressWrite): Promise<void> {
      await saveRunProgress(db, id, write);
    },
    async recordRunClosed(id: string, closure: RunClosure): Promise<void> {
      await closeRun(db, id, closure);
    },
  };
}

export type RunActivities = ReturnType<typeof createRunActivities>;
