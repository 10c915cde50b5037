import { closeRun, findRun, registerRun, saveRunProgress, type RunClosure } from '../db/repositories/runs';
import type { RunProgressWrite } from '../schemas/runs';
import type { ActivityDeps } from './deps';
import { inTransactionWithEvents, runClosedFact } from './webhook-events';

export interface RunStartedInput {
  id: string;
  type: string;
  userId: string | null;
  domainId: string | null;
}

/** Keeps job_runs true for every workflow; each call is an idempotent upsert/update. */
export function createRunActivities(deps: Pick<ActivityDeps, 'db'> & Partial<Pick<ActivityDeps, 'logger' | 'webhookDispatch'>>) {
  const { db } = deps;
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
    /** Closes the row and, in the same transaction, records run.completed / run.failed for the owner's webhooks. */
    async recordRunClosed(id: string, closure: RunClosure): Promise<void> {
      await inTransactionWithEvents(deps, async (tx, emit) => {
        await closeRun(tx, id, closure);
        const run = await findRun(tx, id);
        const fact =
          run && runClosedFact({ id, type: run.type, userId: run.user_id, domainId: run.domain_id, startedAt: run.started_at }, closure);
        if (fact) await emit(fact);
      });
    },
  };
}

export type RunActivities = ReturnType<typeof createRunActivities>;
