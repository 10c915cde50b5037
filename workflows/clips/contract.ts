import { defineRun, USER_JOB } from '../common/run-definition';
import type { clipsWorkflow } from './workflow';

/** Video → clips (ClipFlow AI): names shared by the API, worker and tests. */
export const CLIPS_WORKFLOW_TYPE = 'clipsWorkflow';
export const CLIPS_JOB_TYPE = 'clips';
/** One run per clips request of a video; a retried request (same Idempotency-Key) gets the same run. */
export const clipsWorkflowId = (videoId: string, requestId: string): string => `clips:${videoId}:${requestId}`;

/** Progress reached when moments are picked, and when the last clip is rendered. */
export const RENDER_PROGRESS_START = 20;
export const RENDER_PROGRESS_END = 98;

export const clipsRun = defineRun<typeof clipsWorkflow>({
  workflowType: CLIPS_WORKFLOW_TYPE,
  jobType: CLIPS_JOB_TYPE,
  keysOf: (input) => ({ userId: input.userId, domainId: input.videoId, videoId: input.videoId }),
  ...USER_JOB,
});
