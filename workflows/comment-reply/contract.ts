import { defineRun, USER_JOB } from '../common/run-definition';
import type { commentReplyWorkflow } from './workflow';

/** A reply to a comment (ClipFlow): names shared by the worker, the API and tests. */
export const COMMENT_REPLY_WORKFLOW_TYPE = 'commentReplyWorkflow';
export const COMMENT_REPLY_JOB_TYPE = 'comment-reply';

/** One reply per comment: a retried request joins the run; a completed one is not run again. */
export const commentReplyWorkflowId = (commentId: string): string => `comment-reply:${commentId}`;

export const commentReplyRun = defineRun<typeof commentReplyWorkflow>({
  workflowType: COMMENT_REPLY_WORKFLOW_TYPE,
  jobType: COMMENT_REPLY_JOB_TYPE,
  keysOf: (input) => ({ userId: input.userId, domainId: input.commentId }),
  ...USER_JOB,
});
