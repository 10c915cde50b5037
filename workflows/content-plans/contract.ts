import { defineRun, OPS_RUN, USER_JOB } from '../common/run-definition';
import type { contentPlanWorkflow, scheduledContentPlanWorkflow } from './workflow';

/** Glow Social's monthly AI content plan: names shared by the API, the worker, the schedule and tests. */
export const CONTENT_PLAN_WORKFLOW_TYPE = 'contentPlanWorkflow';
export const CONTENT_PLAN_JOB_TYPE = 'content-plan';
export const SCHEDULED_CONTENT_PLAN_WORKFLOW_TYPE = 'scheduledContentPlanWorkflow';
export const SCHEDULED_CONTENT_PLAN_JOB_TYPE = 'content-plan-schedule';

/** One run per user and month: the schedule, the API and a rerun all land on the same id. */
export const contentPlanWorkflowId = (userId: string, month: string): string => `content-plan:${userId}:${month}`;

/** The user's Temporal Schedule (per task-queue prefix, so parallel stacks never share one). */
export const contentPlanScheduleId = (userId: string, prefix = ''): string => `${prefix}content-plan:${userId}`;

/** Posts written at once per plan; the worker's Anthropic limiter caps the process on top. */
export const CONTENT_PLAN_LANES = 4;
export const DEFAULT_REVIEW_WINDOW_DAYS = 3;
/** The schedule fires on the 1st of each month at this local hour and writes that month. */
export const CONTENT_PLAN_FIRING = { dayOfMonth: 1, hour: 6, minute: 0 } as const;

/**
 * A month's plan. USE_EXISTING joins a plan still being written; a completed month is never run
 * again (the route answers 409 first), a failed one may be, and resumes its unfinished posts.
 */
export const contentPlanRun = defineRun<typeof contentPlanWorkflow>({
  workflowType: CONTENT_PLAN_WORKFLOW_TYPE,
  jobType: CONTENT_PLAN_JOB_TYPE,
  keysOf: (input) => ({ userId: input.userId, domainId: input.month }),
  ...USER_JOB,
});

/** The schedule's action: no job_runs row of its own; the month's plan it starts keeps one. */
export const scheduledContentPlanRun = defineRun<typeof scheduledContentPlanWorkflow>({
  workflowType: SCHEDULED_CONTENT_PLAN_WORKFLOW_TYPE,
  jobType: SCHEDULED_CONTENT_PLAN_JOB_TYPE,
  keysOf: (input) => ({ userId: input.userId }),
  ...OPS_RUN,
});
