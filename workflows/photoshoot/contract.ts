import { defineRun, USER_JOB } from '../common/run-definition';
import type { photoshootWorkflow } from './workflow';

/** SSELFIE pro photoshoot: one child run per grid (a 3×3 contact sheet cut into 9 frames), a few at a time. */
export const PHOTOSHOOT_WORKFLOW_TYPE = 'photoshootWorkflow';
export const PHOTOSHOOT_GRID_WORKFLOW_TYPE = 'photoshootGridWorkflow';
export const PHOTOSHOOT_JOB_TYPE = 'photoshoot';
export const photoshootWorkflowId = (sessionId: string): string => `photoshoot:${sessionId}`;
export const photoshootGridWorkflowId = (sessionId: string, position: number): string => `photoshoot-grid:${sessionId}:${position}`;

/** A session is shot once: a failed one is not re-run under the same id (start a new photoshoot). */
export const photoshootRun = defineRun<typeof photoshootWorkflow>({
  workflowType: PHOTOSHOOT_WORKFLOW_TYPE,
  jobType: PHOTOSHOOT_JOB_TYPE,
  keysOf: (input) => ({ userId: input.userId, domainId: input.sessionId }),
  ...USER_JOB,
  idReusePolicy: 'REJECT_DUPLICATE',
});
