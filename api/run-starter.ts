import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { SignalDefinition, Workflow } from '@temporalio/common';
import type { DbOrTx } from '../db/database';
import { getPlanLimits, type PlanLimits } from '../db/repositories/plans';
import { listSlotHoldingRunIds, lockUserRunStarts } from '../db/repositories/run-listing';
import { closeRun, findRun, registerRun, type NewRun } from '../db/repositories/runs';
import type { RunStarted } from '../schemas/api-runs';
import { runKeysOf, signalWithStartDefinedWorkflow, startDefinedWorkflow, type DefinedStart } from './workflow-starts';
import type { RunDefinition } from '../workflows/common/run-definition';
import type { ApiDeps } from './deps';
import { HttpProblem } from './problem';
import { reconcileRunningRun } from './run-view';

type StarterDeps = Pick<ApiDeps, 'db' | 'temporal' | 'logger' | 'taskQueues'>;

export interface StartRunRequest<W extends Workflow> extends DefinedStart<W> {
  /** Stored as the run's input in job_runs (never secrets). */
  input?: unknown;
  /** The transaction the route is in (the Stripe webhook's): the job_runs row commits with it. */
  db?: DbOrTx;
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
async function admitUnderCap(deps: StarterDeps, run: NewRun, userId: string, limits: PlanLimits): Promise<void> {
  let running = await listSlotHoldingRunIds(deps.db, userId);
  if (running.length >= limits.maxConcurrentJobs) {
    for (const id of running) await reconcileRunningRun(deps, id);
  }
  await deps.db.transaction().execute(async (tx) => {
    await lockUserRunStarts(tx, userId);
    running = await listSlotHoldingRunIds(tx, userId);
    if (running.length >= limits.maxConcurrentJobs) throw concurrencyLimitProblem(limits.maxConcurrentJobs, limits.plan);
    await registerRun(tx, run);
  });
}

/**
 * The job_runs side of a start, as the definition asks: the row first (so lists, ownership
 * checks and the cap see it at once), counted against the cap unless the run is long-lived or
 * joins one already going (same id); the plan's priority when the definition follows it.
 */
async function admit<W extends Workflow>(
  deps: StarterDeps,
  definition: RunDefinition<W>,
  req: StartRunRequest<W>,
): Promise<{ createdRow: boolean; priorityKey?: number }> {
  const db = req.db ?? deps.db;
  const { userId, domainId } = runKeysOf(definition, req);
  const existing = definition.registersJobRun ? await findRun(db, req.workflowId) : undefined;
  const joining = existing?.status === 'running';
  const holdsSlot = definition.registersJobRun && !definition.longLived && !joining;
  const limits = userId && (definition.planPriority || holdsSlot) ? await getPlanLimits(db, userId) : undefined;
  const priorityKey =
    definition.planPriority && limits ? (limits.priorityProcessing ? PRIORITY_KEY.priority : PRIORITY_KEY.standard) : undefined;
  if (!definition.registersJobRun) return { createdRow: false, priorityKey };
  const run: NewRun = {
    id: req.workflowId,
    type: definition.jobType,
    userId,
    domainId,
    input: req.input,
    longLived: definition.longLived,
    reopensCompleted: definition.idReusePolicy === 'ALLOW_DUPLICATE',
  };
  // A joined run's row only learns an owner it did not know yet (a subscription's user).
  if (userId && limits && holdsSlot) await admitUnderCap(deps, run, userId, limits);
  else await registerRun(db, run);
  return { createdRow: !existing, priorityKey };
}

async function startAdmitted<W extends Workflow>(
  deps: StarterDeps,
  definition: RunDefinition<W>,
  req: StartRunRequest<W>,
  start: (priorityKey: number | undefined) => Promise<void>,
): Promise<{ runId: string }> {
  const { createdRow, priorityKey } = await admit(deps, definition, req);
  try {
    await start(priorityKey);
  } catch (err) {
    // A row this request created must not hold a concurrency slot for a run that never started.
    if (createdRow)
      await closeRun(req.db ?? deps.db, req.workflowId, {
        status: 'failed',
        stage: 'start-failed',
        error: { type: 'StartFailed', message: 'the run could not be started' },
      });
    // Temporal keeps a completed run of this id that our rows do not know of (e.g. another stack
    // on the same namespace): it is not run again.
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      throw new HttpProblem(
        409,
        'run-exists',
        'Run Already Exists',
        `a run with id ${req.workflowId} already completed; it is not started again`,
        { runId: req.workflowId },
      );
    }
    throw err;
  }
  return { runId: req.workflowId };
}

/**
 * Starts a run of the API through its contract's definition: job_runs row and cap as the
 * definition says, then Temporal with its id policies, search attributes, memo and priority. With
 * USE_EXISTING a retried request joins the running run instead of starting another.
 */
export function startRun<W extends Workflow>(
  deps: StarterDeps,
  definition: RunDefinition<W>,
  req: StartRunRequest<W>,
): Promise<{ runId: string }> {
  return startAdmitted(deps, definition, req, (priorityKey) =>
    startDefinedWorkflow(deps.temporal, deps.taskQueues, definition, { ...req, priorityKey }),
  );
}

/** Signals the run, starting it first when none is running (events for long-lived runs). */
export function signalWithStartRun<W extends Workflow, SA extends unknown[]>(
  deps: StarterDeps,
  definition: RunDefinition<W>,
  req: StartRunRequest<W> & { signal: SignalDefinition<SA>; signalArgs: SA },
): Promise<{ runId: string }> {
  return startAdmitted(deps, definition, req, (priorityKey) =>
    signalWithStartDefinedWorkflow(deps.temporal, deps.taskQueues, definition, { ...req, priorityKey }),
  );
}

export const runStartedBody = (runId: string): RunStarted => {
  const statusUrl = `/v1/runs/${encodeURIComponent(runId)}`;
  return { runId, statusUrl, eventsUrl: `${statusUrl}/events` };
};
