import { defineRun, USER_JOB } from '../common/run-definition';
import type { regenerateContentWorkflow, videoImportWorkflow } from './workflow';

/** YouTube import → AI content (AmplifyContent.ai): names shared by the API, worker and tests. */
export const VIDEO_IMPORT_WORKFLOW_TYPE = 'videoImportWorkflow';
export const VIDEO_IMPORT_JOB_TYPE = 'video_import';
export const videoImportWorkflowId = (videoId: string): string => `video-import:${videoId}`;

export const CONTENT_REGENERATE_WORKFLOW_TYPE = 'regenerateContentWorkflow';
export const CONTENT_REGENERATE_JOB_TYPE = 'content_regenerate';
/** One run per version written: a retried request joins it, the next regenerate gets the next version. */
export const contentRegenerateWorkflowId = (videoId: string, contentType: string, version: number): string =>
  `video-content:${videoId}:${contentType}:v${version}`;

/** Content generations in flight at once per import; the Anthropic limiter caps real concurrency per worker. */
export const MAX_PARALLEL_GENERATIONS = 20;

/** User jobs on one video: a retried request joins the running run; a failed one may run again. */
const videoJob = {
  keysOf: (input: { userId: string; videoId: string }) => ({ userId: input.userId, domainId: input.videoId, videoId: input.videoId }),
  ...USER_JOB,
} as const;

export const videoImportRun = defineRun<typeof videoImportWorkflow>({
  workflowType: VIDEO_IMPORT_WORKFLOW_TYPE,
  jobType: VIDEO_IMPORT_JOB_TYPE,
  ...videoJob,
});
export const contentRegenerateRun = defineRun<typeof regenerateContentWorkflow>({
  workflowType: CONTENT_REGENERATE_WORKFLOW_TYPE,
  jobType: CONTENT_REGENERATE_JOB_TYPE,
  ...videoJob,
});
