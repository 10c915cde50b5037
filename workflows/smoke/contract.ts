import { defineRun, USER_JOB } from '../common/run-definition';
import type { smokeWorkflow } from './workflow';

/** The smoke process proves the wiring: API → Temporal → worker → activity → PostgreSQL. */
export const SMOKE_WORKFLOW_TYPE = 'smokeWorkflow';
export const SMOKE_JOB_TYPE = 'smoke';
export const smokeWorkflowId = (smokeId: string): string => `smoke:${smokeId}`;

export const smokeRun = defineRun<typeof smokeWorkflow>({
  workflowType: SMOKE_WORKFLOW_TYPE,
  jobType: SMOKE_JOB_TYPE,
  keysOf: (input) => ({ userId: input.userId }),
  ...USER_JOB,
});
