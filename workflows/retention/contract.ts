import type { RetentionPolicy, RetentionResult } from '../../schemas/operations';
import { defineRun, OPS_RUN } from '../common/run-definition';
import type { retentionWorkflow } from './workflow';

/** Pruning old rows: names shared by the worker, the schedule and tests. */
export const RETENTION_WORKFLOW_TYPE = 'retentionWorkflow';
export const RETENTION_JOB_TYPE = 'retention';

/** The Temporal Schedule (per task-queue prefix, so parallel stacks never share one): daily at 03:30 UTC. */
export const retentionScheduleId = (prefix = ''): string => `${prefix}retention`;
/** DELETE statements per activity call, and activity calls per run before it continues as new. */
export const RETENTION_BATCHES_PER_CALL = 20;
export const RETENTION_CALLS_PER_RUN = 100;

export interface RetentionInput {
  policy: RetentionPolicy;
  /** Totals carried over a continue-as-new. */
  carried?: RetentionResult;
}

/** The `retention` schedule's action: no owner, no job_runs row. */
export const retentionRun = defineRun<typeof retentionWorkflow>({
  workflowType: RETENTION_WORKFLOW_TYPE,
  jobType: RETENTION_JOB_TYPE,
  keysOf: () => ({}),
  ...OPS_RUN,
});
