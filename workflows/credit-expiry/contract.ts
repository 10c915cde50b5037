import { defineRun, OPS_RUN } from '../common/run-definition';
import type { creditExpiryWorkflow } from './workflow';

/** Expiring credit lots: names shared by the worker, the schedule and tests. */
export const CREDIT_EXPIRY_WORKFLOW_TYPE = 'creditExpiryWorkflow';
export const CREDIT_EXPIRY_JOB_TYPE = 'credit-expiry';

/** The Temporal Schedule (per task-queue prefix, so parallel stacks never share one). */
export const creditExpiryScheduleId = (prefix = ''): string => `${prefix}credit-expiry`;
/** How often due lots are expired: a lot lives at most this long past its expiry. */
export const CREDIT_EXPIRY_INTERVAL = '1 hour';
/** Lots per activity call, and pages per run before it continues as new. */
export const CREDIT_EXPIRY_PAGE_SIZE = 200;
export const CREDIT_EXPIRY_PAGES_PER_RUN = 50;

export interface CreditExpiryResult {
  expiredLots: number;
  expiredCredits: number;
}

/** The `credit-expiry` schedule's action: no owner, no job_runs row. */
export const creditExpiryRun = defineRun<typeof creditExpiryWorkflow>({
  workflowType: CREDIT_EXPIRY_WORKFLOW_TYPE,
  jobType: CREDIT_EXPIRY_JOB_TYPE,
  keysOf: () => ({}),
  ...OPS_RUN,
});
