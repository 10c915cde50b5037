import { sql } from 'kysely';
import type { DbOrTx } from '../database';
import type { JobRun, RunStatus } from '../types';

export interface NewRun {
  id: string;
  type: string;
  userId: string | null;
  domainId?: string | null;
  input?: unknown;
}

/** Closed states after which Temporal lets the same workflow id run again (ALLOW_DUPLICATE_FAILED_ONLY). */
const RERUNNABLE: RunStatus[] = ['failed', 'canceled', 'terminated', 'timed_out'];

/**
 * Registers a run; a second call for the same id (API then workflow, or a retry) changes nothing,
 * except that a row left failed/canceled/terminated/timed_out by an earlier run of the same id is
 * reopened for the new run. A completed row is never reopened.
 */
export async function registerRun(db: DbOrTx, run: NewRun): Promise<void> {
  await db
    .updateTable('job_runs')
    .set({
      status: 'running',
      stage: 'queued',
      progress: 0,
      result: null,
      error_type: null,
      error_message: null,
      closed_at: null,
      started_at: sql`now()`,
    })
    .where('id', '=', run.id)
    .where('status', 'in', RERUNNABLE)
    .execute();
  await db
    .insertInto('job_runs')
    .values({
      id: run.id,
      type: run.type,
      user_id: run.userId,
      domain_id: run.domainId ?? null,
      input: run.input === undefined ? null : JSON.stringify(run.input),
    })
    .onConflict((oc) =>
      oc.column('id').doUpdateSet({
        user_id: sql`coalesce(job_runs.user_id, excluded.user_id)`,
        domain_id: sql`coalesce(job_runs.domain_id, excluded.domain_id)`,
      }),
    )
    .execute();
}

/** Progress only moves forward and never touches a closed run (late retries are harmless). */
export async function updateRunProgress(db: DbOrTx, id: string, stage: string, progress: number): Promise<void> {
  await db
    .updateTable('job_runs')
    .set({ stage, progress: sql`greatest(progress, ${progress})` })
    .where('id', '=', id)
    .where('status', '=', 'running')
    .execute();
}

export interface RunClosure {
  status: Exclude<RunStatus, 'running'>;
  stage?: string;
  result?: unknown;
  error?: { type: string; message: string };
}

export async function closeRun(db: DbOrTx, id: string, closure: RunClosure): Promise<void> {
  await db
    .updateTable('job_runs')
    .set({
      status: closure.status,
      stage: closure.stage ?? (closure.status === 'completed' ? 'done' : closure.status),
      progress: closure.status === 'completed' ? 100 : sql`progress`,
      result: closure.result === undefined ? null : JSON.stringify(closure.result),
      error_type: closure.error?.type ?? null,
      error_message: closure.error?.message ?? null,
      closed_at: sql`coalesce(closed_at, now())`,
    })
    .where('id', '=', id)
    .execute();
}

export async function findRun(db: DbOrTx, id: string): Promise<JobRun | undefined> {
  return db.selectFrom('job_runs').selectAll().where('id', '=', id).executeTakeFirst();
}
