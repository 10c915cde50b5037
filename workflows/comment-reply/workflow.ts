import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { SocialEngagementActivities } from '../../activities/social-engagement';
import type { CommentReplyInput, CommentReplyResult } from '../../schemas/social-insights';
import { trackRun } from '../common/run-tracking';
import { asSocialAccount } from '../common/social-access';
import { COMMENT_REPLY_JOB_TYPE } from './contract';

// Rate limits and outages are retried with backoff; auth, an unknown comment and a too long text
// fail at once. The activity looks for our earlier reply before replying, so a retry after the
// platform accepted the reply never answers twice.
const { publishCommentReply } = proxyActivities<SocialEngagementActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 10 },
});

/** Publishes the user's reply to a comment once, then the comment reads replied with its reply text. */
export async function commentReplyWorkflow(input: CommentReplyInput): Promise<CommentReplyResult> {
  return trackRun({ type: COMMENT_REPLY_JOB_TYPE, userId: input.userId, domainId: input.commentId }, async (run) => {
    await run.stage('replying', 20);
    return asSocialAccount(input.socialAccountId, () =>
      publishCommentReply({
        commentId: input.commentId,
        userId: input.userId,
        text: input.text,
        since: workflowInfo().startTime.toISOString(),
      }),
    );
  });
}
