import { defineRun, USER_JOB } from '../common/run-definition';
import type { imageGenerationWorkflow } from './workflow';

/** SSELFIE: 1–4 images from the user's active personal model, one Replicate prediction each. */
export const IMAGE_GENERATION_WORKFLOW_TYPE = 'imageGenerationWorkflow';
export const IMAGE_GENERATION_JOB_TYPE = 'image-generation';
export const imageGenerationWorkflowId = (generationId: string): string => `image-generation:${generationId}`;

export const imageGenerationRun = defineRun<typeof imageGenerationWorkflow>({
  workflowType: IMAGE_GENERATION_WORKFLOW_TYPE,
  jobType: IMAGE_GENERATION_JOB_TYPE,
  keysOf: (input) => ({ userId: input.userId, domainId: input.generationId }),
  ...USER_JOB,
  idReusePolicy: 'REJECT_DUPLICATE',
});
