import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { SocialEngagementActivities } from '../../activities/social-engagement';
import type { CommentsPollInput, CommentsPollResult } from '../../schemas/social-insights';
import { asSocialAccount, isAccessLost } from '../common/social-access';
import { SENTIMENT_BATCHES_PER_POLL } from './contract';

// A poll runs every few minutes: a platform that keeps failing is left for the next one.
const platform = proxyActivities<SocialEngagementActivities>({
  startToCloseTimeout: '3 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 4 },
});

const model = proxyActivities<SocialEngagementActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 4 },
});

/**
 * What each account's polling Schedule starts: renews the account's token ahead of its expiry,
 * stores the new comments under its recent posts, then has the model classify the sentiment of
 * the unclassified ones in batches. A platform that refused the account revokes it (schedules
 * paused) and the poll ends there.
 */
export async function commentsPollWorkflow(input: CommentsPollInput): Promise<CommentsPollResult> {
  const { socialAccountId } = input;
  const result: CommentsPollResult = { tokenRefreshed: false, postsChecked: 0, newComments: 0, classified: 0 };
  try {
    await asSocialAccount(socialAccountId, async () => {
      result.tokenRefreshed = (await platform.renewTokenAhead({ socialAccountId })).refreshed;
      const polled = await platform.pollComments({ socialAccountId });
      result.postsChecked = polled.postsChecked;
      result.newComments = polled.newComments;
    });
  } catch (err) {
    if (isAccessLost(err)) return { ...result, accessLost: true };
    throw err;
  }
  for (let batch = 0; batch < SENTIMENT_BATCHES_PER_POLL; batch += 1) {
    const classified = await model.classifyCommentSentiments({ socialAccountId, userId: input.userId, runId: workflowInfo().workflowId });
    result.classified += classified.classified;
    if (!classified.more) break;
  }
  return result;
}
