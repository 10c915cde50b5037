import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { ContentPlanActivities } from '../../activities/content-plans';
import type { SubscriptionCleanupActivities } from '../../activities/subscription-cleanup';
import type { SubscriptionCleanupInput, SubscriptionCleanupResult } from '../../schemas/subscription-cleanup';
import { databaseWrites } from '../common/activity-options';

const cleanup = proxyActivities<SubscriptionCleanupActivities>({
  // One update per upcoming post: a heartbeat hands a dead worker's batch on within seconds.
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '10 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});
const schedules = proxyActivities<ContentPlanActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});
const rows = proxyActivities<SubscriptionCleanupActivities>(databaseWrites());

/**
 * `subscription-cleanup:<stripeSubscriptionId>:<n>`: when a subscription ends, cancels the user's
 * upcoming posts through each post run's cancel update (their runs end canceled, their slots free),
 * removes the content-plan Schedule, and writes one cancellation_logs row saying what it did. Every
 * step is idempotent, so a retried or replayed run changes nothing more.
 */
export async function subscriptionCleanupWorkflow(input: SubscriptionCleanupInput): Promise<SubscriptionCleanupResult> {
  const posts = await cleanup.cancelUpcomingPosts({ userId: input.userId, after: input.endedAt });
  const { schedule } = await schedules.removeContentPlanSchedule({ userId: input.userId });
  const result: SubscriptionCleanupResult = { ...posts, contentPlanSchedule: schedule };
  await rows.recordCancellationLog({
    cleanupId: workflowInfo().workflowId,
    userId: input.userId,
    stripeSubscriptionId: input.stripeSubscriptionId,
    reason: `subscription ${input.reason}`,
    results: { ...result, endedAt: input.endedAt },
  });
  return result;
}
