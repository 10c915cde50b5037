import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { ApprovePostReply, ApprovePostRequest, PostWorkflowState, ReschedulePostReply } from '../../schemas/posts';
import { defineRun } from '../common/run-definition';
import type { postWorkflow } from './workflow';

/** Scheduled social posting (ClipFlow AI, Glow Social): names shared by the API, worker and tests. */
export const POST_WORKFLOW_TYPE = 'postWorkflow';
export const POST_JOB_TYPE = 'post';
export const postWorkflowId = (postId: string): string => `post:${postId}`;

/** A post waits days for its due time and metrics: listed as the user's run, never counted against the concurrency cap. */
export const postRun = defineRun<typeof postWorkflow>({
  workflowType: POST_WORKFLOW_TYPE,
  jobType: POST_JOB_TYPE,
  taskQueue: 'main',
  keysOf: (input) => ({ userId: input.userId, domainId: input.postId }),
  idConflictPolicy: 'USE_EXISTING',
  idReusePolicy: 'REJECT_DUPLICATE',
  registersJobRun: true,
  longLived: true,
  planPriority: false,
});

/** Runs that publish a post to several targets (input.targetIds: one activity per target) carry this patch. */
export const POST_TARGETS_PATCH = 'post-targets';

/** Metric snapshots after publishing, by checkpoint name (post_metrics.checkpoint). */
export const METRIC_CHECKPOINTS: ReadonlyArray<{ checkpoint: string; afterMs: number }> = [
  { checkpoint: '1h', afterMs: 3_600_000 },
  { checkpoint: '24h', afterMs: 86_400_000 },
  { checkpoint: '7d', afterMs: 7 * 86_400_000 },
];

export const postStateQuery = defineQuery<PostWorkflowState>('postState');
export const approvePostUpdate = defineUpdate<ApprovePostReply, [ApprovePostRequest]>('approvePost');
export const rejectPostUpdate = defineUpdate<{ status: 'canceled' }, [{ reason: string }]>('rejectPost');
export const reschedulePostUpdate = defineUpdate<ReschedulePostReply, [{ scheduledAt: string }]>('reschedulePost');
export const cancelPostUpdate = defineUpdate<{ status: 'canceled' }, []>('cancelPost');
