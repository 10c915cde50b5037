/** The smoke process proves the wiring: API → Temporal → worker → activity → PostgreSQL. */
export const SMOKE_WORKFLOW_TYPE = 'smokeWorkflow';
export const SMOKE_JOB_TYPE = 'smoke';
export const smokeWorkflowId = (smokeId: string): string => `smoke:${smokeId}`;
