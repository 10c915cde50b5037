import { defineRun, USER_JOB } from '../common/run-definition';
import type { thumbnailsWorkflow, thumbnailYoutubeUploadWorkflow } from './workflow';

/** Thumbnail generation (AmplifyContent.ai): names shared by the API, worker and tests. */
export const THUMBNAILS_WORKFLOW_TYPE = 'thumbnailsWorkflow';
export const THUMBNAILS_JOB_TYPE = 'thumbnails';
/** One run per job row (a refinement is a job too): a retried request joins it. */
export const thumbnailsWorkflowId = (jobId: string): string => `thumbnails:${jobId}`;

export const THUMBNAIL_YOUTUBE_WORKFLOW_TYPE = 'thumbnailYoutubeUploadWorkflow';
export const THUMBNAIL_YOUTUBE_JOB_TYPE = 'thumbnail_youtube_upload';
/** One run per selection: selecting the same thumbnail again later uploads it again (YouTube may show another by then). */
export const thumbnailYoutubeWorkflowId = (thumbnailId: string, selectedAtMs: number): string =>
  `thumbnail-youtube:${thumbnailId}:${selectedAtMs}`;

/** Progress the job reaches before the first style, and at the end of the last one. */
export const STYLES_PROGRESS_START = 5;
export const STYLES_PROGRESS_END = 95;

export const thumbnailsRun = defineRun<typeof thumbnailsWorkflow>({
  workflowType: THUMBNAILS_WORKFLOW_TYPE,
  jobType: THUMBNAILS_JOB_TYPE,
  keysOf: (input) => ({ userId: input.userId, domainId: input.jobId, videoId: input.videoId }),
  ...USER_JOB,
});

export const thumbnailYoutubeRun = defineRun<typeof thumbnailYoutubeUploadWorkflow>({
  workflowType: THUMBNAIL_YOUTUBE_WORKFLOW_TYPE,
  jobType: THUMBNAIL_YOUTUBE_JOB_TYPE,
  keysOf: (input) => ({ userId: input.userId, domainId: input.thumbnailId }),
  ...USER_JOB,
});
