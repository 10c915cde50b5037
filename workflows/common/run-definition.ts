import type { Workflow } from '@temporalio/common';

/** The queue a run's workflow tasks go to; the starter resolves it with TASK_QUEUE_PREFIX. */
export type TaskQueueKind = 'main' | 'media';

/** Who a run belongs to and what it is about: job_runs columns and search attributes. */
export interface RunKeys {
  userId?: string | null;
  domainId?: string;
  /** The source video, when the run works on one: searchable as `VideoId`. */
  videoId?: string;
}

/**
 * How every run of one workflow is started, whoever starts it (route, webhook, sweep, schedule).
 * Contracts declare one per startable workflow with `import type` of the workflow function, so
 * starts are typed against its parameters while the contract stays free of client code.
 */
export interface RunDefinition<W extends Workflow> {
  /** The registered workflow function's name. */
  workflowType: string;
  /** job_runs.type and the `JobType` search attribute. */
  jobType: string;
  taskQueue: TaskQueueKind;
  /** Owner, domain id and video of a run, read from its input. */
  keysOf: (input: Parameters<W>[0]) => RunKeys;
  /** A start meeting a running run of the same id joins it (USE_EXISTING: a retried request or redelivered event) or fails. */
  idConflictPolicy: 'USE_EXISTING' | 'FAIL';
  /** Whether a closed run's id may run again (Temporal's reuse policy); its job_runs row reopens exactly then. */
  idReusePolicy: 'ALLOW_DUPLICATE' | 'ALLOW_DUPLICATE_FAILED_ONLY' | 'REJECT_DUPLICATE';
  /** The API keeps a job_runs row for it (lists, ownership checks, the concurrency cap). */
  registersJobRun: boolean;
  /** Lives for days (waits for a due time or for billing events): never counted against the per-user concurrency cap. */
  longLived: boolean;
  /** The owner's plan decides the Temporal priority (priority processing); else the server default. */
  planPriority: boolean;
}

export const defineRun = <W extends Workflow>(definition: RunDefinition<W>): RunDefinition<W> => definition;

/**
 * The usual user-started job (an import, a render): main queue, a retried request joins the
 * running run, a failed one may run again, kept in job_runs, counted against the cap, prioritised
 * by the owner's plan.
 */
export const USER_JOB = {
  taskQueue: 'main',
  idConflictPolicy: 'USE_EXISTING',
  idReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
  registersJobRun: true,
  longLived: false,
  planPriority: true,
} as const satisfies Partial<RunDefinition<Workflow>>;

/** An operations run (sweeps, schedules): no owner, so no job_runs row, no plan priority and no concurrency cap. */
export const OPS_RUN = {
  taskQueue: 'main',
  idConflictPolicy: 'USE_EXISTING',
  idReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
  registersJobRun: false,
  longLived: false,
  planPriority: false,
} as const satisfies Partial<RunDefinition<Workflow>>;
