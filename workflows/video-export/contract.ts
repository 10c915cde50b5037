import { defineRun, USER_JOB } from '../common/run-definition';
import type { videoExportWorkflow } from './workflow';

/** Export of an imported video's content to the user's Google Drive, any time after its import. */
export const VIDEO_EXPORT_WORKFLOW_TYPE = 'videoExportWorkflow';
export const VIDEO_EXPORT_JOB_TYPE = 'video_export';
/** One run per export request of a video; a retried request (same Idempotency-Key) gets the same run. */
export const videoExportWorkflowId = (videoId: string, requestId: string): string => `video-export:${videoId}:${requestId}`;

export const videoExportRun = defineRun<typeof videoExportWorkflow>({
  workflowType: VIDEO_EXPORT_WORKFLOW_TYPE,
  jobType: VIDEO_EXPORT_JOB_TYPE,
  keysOf: (input) => ({ userId: input.userId, domainId: input.videoId, videoId: input.videoId }),
  ...USER_JOB,
});
