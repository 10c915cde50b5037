import { defineRun, USER_JOB } from '../common/run-definition';
import type { videoIngestWorkflow } from './workflow';

/** Video ingest (ClipFlow): names shared by the API, worker and tests. */
export const VIDEO_INGEST_WORKFLOW_TYPE = 'videoIngestWorkflow';
export const VIDEO_INGEST_JOB_TYPE = 'ingest';
/** One ingest per video: the video row is created with it, so a retried request cannot start a second. */
export const videoIngestWorkflowId = (videoId: string): string => `ingest:${videoId}`;
/** The clips run an ingest with `autoClips` chains into. */
export const AUTO_CLIPS_REQUEST_ID = 'auto';

export const videoIngestRun = defineRun<typeof videoIngestWorkflow>({
  workflowType: VIDEO_INGEST_WORKFLOW_TYPE,
  jobType: VIDEO_INGEST_JOB_TYPE,
  keysOf: (input) => ({ userId: input.userId, domainId: input.videoId, videoId: input.videoId }),
  ...USER_JOB,
});
