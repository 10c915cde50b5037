import { defineRun, USER_JOB } from '../common/run-definition';
import type { animationWorkflow } from './workflow';

/** SSELFIE animation: one image-to-video prediction of a generated image, paid with credits. */
export const ANIMATION_WORKFLOW_TYPE = 'animationWorkflow';
export const ANIMATION_JOB_TYPE = 'animation';
/** An image may be animated many times: each request is its own video (and run). */
export const animationWorkflowId = (imageId: string, videoId: string): string => `animation:${imageId}:${videoId}`;

export const animationRun = defineRun<typeof animationWorkflow>({
  workflowType: ANIMATION_WORKFLOW_TYPE,
  jobType: ANIMATION_JOB_TYPE,
  keysOf: (input) => ({ userId: input.userId, domainId: input.videoId }),
  ...USER_JOB,
  idReusePolicy: 'REJECT_DUPLICATE',
});
