import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { ApprovePostReply, ApprovePostRequest, PostWorkflowState, ReschedulePostReply } from '../../schemas/posts';

/** Scheduled social posting (ClipFlow AI, Glow Social): names shared by the API, worker and tests. */
export const POST_WORKFLOW_TYPE = 'postWorkflow';
export const POST_JOB_TYPE = 'post';
export const postWorkflowId = (postId: string): string => `post:${postId}`;

/** Metric snapshots after publishing, by checkpoint name (post_metrics.checkpoint). */
export const METRIC_CHECKPOINTS: ReadonlyArray<{ checkpoint: string; afterMs: number }> = [
  { checkpoint: '1h', afterMs: 3_600_000 },
  { checkpoint: '24h', afterMs: 86_400_000 },
  { checkpoint: '7d', afterMs: 7 * 86_400_000 },
];

/**
 * Failure types of the updates' validators and handlers; the API maps them to HTTP statuses.
 * InvalidState → 409 (e.g. rescheduling a published post), InvalidInput → 422, SlotTaken → 409.
 */
export const PostUpdateFailure = { InvalidState: 'InvalidState', InvalidInput: 'InvalidInput', SlotTaken: 'SlotTaken' } as const;

export const postStateQuery = defineQuery<PostWorkflowState>('postState');
export const approvePostUpdate = defineUpdate<ApprovePostReply, [ApprovePostRequest]>('approvePost');
export const rejectPostUpdate = defineUpdate<{ status: 'canceled' }, [{ reason: string }]>('rejectPost');
export const reschedulePostUpdate = defineUpdate<ReschedulePostReply, [{ scheduledAt: string }]>('reschedulePost');
export const cancelPostUpdate = defineUpdate<{ status: 'canceled' }, []>('cancelPost');
