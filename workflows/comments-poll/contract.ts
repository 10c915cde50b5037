import { defineRun, OPS_RUN } from '../common/run-definition';
import type { commentsPollWorkflow } from './workflow';

/** The comments inbox (ClipFlow): names shared by the worker, the schedules and tests. */
export const COMMENTS_POLL_WORKFLOW_TYPE = 'commentsPollWorkflow';
export const COMMENTS_POLL_JOB_TYPE = 'comments-poll';

export const commentsPollWorkflowId = (socialAccountId: string): string => `comments-poll:${socialAccountId}`;
/** The account's polling Schedule (per task-queue prefix). */
export const commentsPollScheduleId = (socialAccountId: string, prefix = ''): string => `${prefix}comments-poll:${socialAccountId}`;

/** How often each account is polled (its token is also renewed ahead of expiry then). */
export const COMMENTS_POLL_INTERVAL_SECONDS = 300;
/** Model calls per poll (SENTIMENT_BATCH_SIZE comments each); the rest waits for the next poll. */
export const SENTIMENT_BATCHES_PER_POLL = 5;
/** Stored platforms whose adapters list comments and reply. */
export const COMMENTS_PLATFORMS: readonly string[] = ['instagram', 'twitter'];

/** The schedule's action: no job_runs row (it fires every few minutes), searchable by user and account. */
export const commentsPollRun = defineRun<typeof commentsPollWorkflow>({
  workflowType: COMMENTS_POLL_WORKFLOW_TYPE,
  jobType: COMMENTS_POLL_JOB_TYPE,
  keysOf: (input) => ({ userId: input.userId, domainId: input.socialAccountId }),
  ...OPS_RUN,
});
