import { sql } from 'kysely';
import type { RunProgressWrite } from '../../schemas/runs';
import type { Db, DbOrTx } from '../database';
import type { JobRun, RunStatus } from '../types';
import { updateThumbnailJobProgress } from './thumbnails';
import { updateVideoProcessing } from './video-import';

export interface NewRun {
  id: string;
  type: string;
  userId: string | null;
  domainId?: string | null;
  input?: unknown;
  /** Lives for days (a scheduled post, a subscription): never counted against the concurrency cap. */
  longLived?: boolean;
  /** The id runs again after a completed run too (Temporal's ALLOW_DUPLICATE), so a completed row reopens as well. */
  reopensCompleted?: boolean;
}

/** Closed states after which Temporal lets the same workflow id run again (ALLOW_DUPLICATE_FAILED_ONLY). */
const RERUNNABLE: RunStatus[] = ['failed', 'canceled', 'terminated', 'timed_out'];

/**
 * Registers a run; a second call for the same id (API then workflow, or a retry) changes nothing,
 * except that a row left failed/canceled/terminated/timed_out by an earlier run of the same id is
 * reopened for the new run. A completed row is reopened only for ids that may run again after
 * completing (`reopensCompleted`).
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
    .where('status', 'in', run.reopensCompleted ? [...RERUNNABLE, 'completed'] : RERUNNABLE)
    .execute();
  await db
    .insertInto('job_runs')
    .values({
      id: run.id,
      type: run.type,
      user_id: run.userId,
      domain_id: run.domainId ?? null,
      input: run.input === undefined ? null : JSON.stringify(run.input),
      long_lived: run.longLived ?? false,
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

/** A run's progress and the domain row mirroring it, in one transaction: one write per stage change. */
export async function saveRunProgress(db: Db, id: string, write: RunProgressWrite): Promise<void> {
  const { row } = write;
  if (!row) return updateRunProgress(db, id, write.stage, write.progress);
  await db.transaction().execute(async (tx) => {
    await updateRunProgress(tx, id, write.stage, write.progress);
    if (row.kind === 'video') await updateVideoProcessing(tx, row.videoId, { status: 'processing', progress: write.progress });
    else await updateThumbnailJobProgress(tx, row.jobId, write.progress, row.currentStyle);
  });
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

export interface FailedRunFilter {
  type: string;
  errorType?: string;
  /** Failed at or after (closed_at). */
  from: Date;
  /** Failed before. */
  to: Date;
  limit: number;
}

/** Failed runs of one type in a time window, oldest failure first (bulk redrive); `more` when the limit cut the list. */
export async function listFailedRuns(
  db: DbOrTx,
  filter: FailedRunFilter,
): Promise<{ runs: Pick<JobRun, 'id' | 'user_id'>[]; more: boolean }> {
  let query = db
    .selectFrom('job_runs')
    .select(['id', 'user_id'])
    .where('status', '=', 'failed')
    .where('type', '=', filter.type)
    .where('closed_at', '>=', filter.from)
    .where('closed_at', '<', filter.to);
  if (filter.errorType) query = query.where('error_type', '=', filter.errorType);
  const rows = await query
    .orderBy('closed_at')
    .orderBy('id')
    .limit(filter.limit + 1)
    .execute();
  return { runs: rows.slice(0, filter.limit), more: rows.length > filter.limit };
}
