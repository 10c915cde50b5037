import { defineRun, USER_JOB } from '../common/run-definition';
import type { productVideoWorkflow } from './workflow';

/** Product videos (EcomVideo AI): names shared by the API, the worker and tests. */
export const PRODUCT_VIDEO_WORKFLOW_TYPE = 'productVideoWorkflow';
export const PRODUCT_VIDEO_JOB_TYPE = 'product-video';
/** One run per product_videos row: a retried request joins it. */
export const productVideoWorkflowId = (videoId: string): string => `product-video:${videoId}`;

/** How long each Freepik task may take before the run stops waiting (and fails, refunding). */
export const FREEPIK_IMAGE_DEADLINE = '15 minutes' as const;
export const FREEPIK_VIDEO_DEADLINE = '45 minutes' as const;

export const productVideoRun = defineRun<typeof productVideoWorkflow>({
  workflowType: PRODUCT_VIDEO_WORKFLOW_TYPE,
  jobType: PRODUCT_VIDEO_JOB_TYPE,
  keysOf: (input) => ({ userId: input.userId, domainId: input.videoId }),
  ...USER_JOB,
});
