import { WorkflowExecutionAlreadyStartedError, WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/client';
import { TypedSearchAttributes, type SearchAttributePair } from '@temporalio/common';
import { listRunningRunIds, lockUserRunStarts } from '../db/repositories/run-listing';
import { closeRun, findRun, registerRun } from '../db/repositories/runs';
import type { RunStarted } from '../schemas/api-runs';
import { DomainIdAttr, JobTypeAttr, UserIdAttr, VideoIdAttr } from '../lib/search-attributes';
import type { ApiDeps } from './deps';
import { getPlanLimits } from './plan-limits';
import { HttpProblem } from './problem';
import { reconcileRunningRun } from './run-view';

export interface StartRunRequest<A extends unknown[]> {
  workflowType: string;
  workflowId: string;
  jobType: string;
  taskQueue: string;
  args: A;
  userId: string | null;
  domainId?: string;
  /** The source video, when the run works on one: searchable as `VideoId` in the Temporal UI. */
  videoId?: string;
  /** Stored as the run's input in job_runs (never secrets). */
  input?: unknown;
}

/** Temporal priority keys: 1 is served first; 3 is the server's default. */
export const PRIORITY_KEY = { priority: 1, standard: 3 } as const;

export const concurrencyLimitProblem = (limit: number, plan: string): HttpProblem =>
  new HttpProblem(
    429,
    'concurrency-limit',
    'Too Many Running Jobs',
    `your ${plan} plan allows ${limit} running job(s) at once; wait for one to finish or cancel one`,
    { limit },
    { 'Retry-After': '5' },
  );

/**
 * Checks the user's running-job cap and registers the run in one transaction under a per-user
 * lock, so parallel requests cannot overshoot. Rows of runs Temporal has already closed
 * (terminated, timed out) are reconciled before the user is refused.
 */
async function admitRun(
  deps: Pick<ApiDeps, 'db' | 'temporal' | 'logger'>,
  req: StartRunRequest<unknown[]>,
  userId: string,
  maxConcurrentJobs: number,
  plan: string,
): Promise<void> {
  let running = await listRunningRunIds(deps.db, userId);
  if (running.length >= maxConcurrentJobs) {
    for (const id of running) await reconcileRunningRun(deps, id);
  }
  await deps.db.transaction().execute(async (tx) => {
    await lockUserRunStarts(tx, userId);
    running = await listRunningRunIds(tx, userId);
    if (running.length >= maxConcurrentJobs) throw concurrencyLimitProblem(maxConcurrentJobs, plan);
    await registerRun(tx, { id: req.workflowId, type: req.jobType, userId, domainId: req.domainId, input: req.input });
  });
}

/**
 * Starts a workflow the one way every route does: the job_runs row first (so lists, ownership
 * checks and the concurrency cap see it at once), then Temporal with search attributes, memo,
 * the plan's priority, readable id and USE_EXISTING, so a retried request joins the running
 * run instead of starting another.
 */
export async function startRun<A extends unknown[]>(
  deps: Pick<ApiDeps, 'db' | 'temporal' | 'logger'>,
  req: StartRunRequest<A>,
): Promise<{ runId: string }> {
  const existing = await findRun(deps.db, req.workflowId);
  let priorityKey: number = PRIORITY_KEY.standard;
  // Joining a run that is already going (same domain id) takes no new slot.
  if (req.userId && existing?.status !== 'running') {
    const limits = await getPlanLimits(deps.db, req.userId);
    if (limits.priorityProcessing) priorityKey = PRIORITY_KEY.priority;
    await admitRun(deps, req, req.userId, limits.maxConcurrentJobs, limits.plan);
  } else if (!existing) {
    await registerRun(deps.db, { id: req.workflowId, type: req.jobType, userId: null, domainId: req.domainId, input: req.input });
  }
  const attributes: SearchAttributePair[] = [{ key: JobTypeAttr, value: req.jobType }];
  if (req.userId) attributes.push({ key: UserIdAttr, value: req.userId });
  if (req.domainId) attributes.push({ key: DomainIdAttr, value: req.domainId });
  if (req.videoId) attributes.push({ key: VideoIdAttr, value: req.videoId });
  try {
    await deps.temporal.workflow.start(req.workflowType, {
      workflowId: req.workflowId,
      taskQueue: req.taskQueue,
      args: req.args,
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
      typedSearchAttributes: new TypedSearchAttributes(attributes),
      memo: { jobType: req.jobType, ...(req.userId ? { userId: req.userId } : {}) },
      priority: { priorityKey },
    });
  } catch (err) {
    // A row this request created must not hold a concurrency slot for a run that never started.
    if (!existing)
      await closeRun(deps.db, req.workflowId, {
        status: 'failed',
        stage: 'start-failed',
        error: { type: 'StartFailed', message: 'the run could not be started' },
      });
    // Temporal keeps a completed run of this id that our rows do not know of (e.g. another stack
    // on the same namespace): it is not run again.
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      throw new HttpProblem(409, 'run-exists', 'Run Already Exists', `a run with id ${req.workflowId} already completed; it is not started again`, { runId: req.workflowId });
    }
    throw err;
  }
  return { runId: req.workflowId };
}

export const runStartedBody = (runId: string): RunStarted => {
  const statusUrl = `/v1/runs/${encodeURIComponent(runId)}`;
  return { runId, statusUrl, eventsUrl: `${statusUrl}/events` };
};
