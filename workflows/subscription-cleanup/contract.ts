import { defineRun } from '../common/run-definition';
import type { subscriptionCleanupWorkflow } from './workflow';

export const SUBSCRIPTION_CLEANUP_WORKFLOW_TYPE = 'subscriptionCleanupWorkflow';
export const SUBSCRIPTION_CLEANUP_JOB_TYPE = 'subscription-cleanup';
/** One end of a subscription's access, by when it ended (a paused subscription can end, resume and end again). */
export const subscriptionCleanupWorkflowId = (stripeSubscriptionId: string, endedAt: string): string =>
  `subscription-cleanup:${stripeSubscriptionId}:${endedAt}`;

/** Started by the subscription workflow (a child it abandons): billing housekeeping, not a user's job. */
export const subscriptionCleanupRun = defineRun<typeof subscriptionCleanupWorkflow>({
  workflowType: SUBSCRIPTION_CLEANUP_WORKFLOW_TYPE,
  jobType: SUBSCRIPTION_CLEANUP_JOB_TYPE,
  taskQueue: 'main',
  keysOf: (input) => ({ userId: input.userId, domainId: input.stripeSubscriptionId }),
  idConflictPolicy: 'USE_EXISTING',
  idReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
  registersJobRun: false,
  longLived: false,
  planPriority: false,
});
