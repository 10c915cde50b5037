import { defineRun, USER_JOB } from '../common/run-definition';
import type { modelTrainingWorkflow } from './workflow';

/** SSELFIE: one fine-tune of a user's personal model at Replicate, paid with credits. */
export const MODEL_TRAINING_WORKFLOW_TYPE = 'modelTrainingWorkflow';
export const MODEL_TRAINING_JOB_TYPE = 'model-training';
export const modelTrainingWorkflowId = (modelId: string): string => `model-training:${modelId}`;

/** A model id is trained once: a failed or canceled training is not re-run under the same id (train a new model). */
export const modelTrainingRun = defineRun<typeof modelTrainingWorkflow>({
  workflowType: MODEL_TRAINING_WORKFLOW_TYPE,
  jobType: MODEL_TRAINING_JOB_TYPE,
  keysOf: (input) => ({ userId: input.userId, domainId: input.modelId }),
  ...USER_JOB,
  idReusePolicy: 'REJECT_DUPLICATE',
});
