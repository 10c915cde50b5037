import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/client';
import { TypedSearchAttributes, type SearchAttributePair } from '@temporalio/common';
import { registerRun } from '../db/repositories/runs';
import { DomainIdAttr, JobTypeAttr, UserIdAttr } from '../lib/search-attributes';
import type { ApiDeps } from './deps';

export interface StartRunRequest<A extends unknown[]> {
  workflowType: string;
  workflowId: string;
  jobType: string;
  taskQueue: string;
  args: A;
  userId: string | null;
  domainId?: string;
  /** Stored as the run's input in job_runs (never secrets). */
  input?: unknown;
}

/**
 * Starts a workflow the one way every route does: the job_runs row first (so lists and
 * ownership checks see it at once), then Temporal with search attributes, readable id and
 * USE_EXISTING, so a retried request joins the running run instead of starting another.
 */
export async function startRun<A extends unknown[]>(deps: Pick<ApiDeps, 'db' | 'temporal'>, req: StartRunRequest<A>): Promise<{ runId: string }> {
  await registerRun(deps.db, { id: req.workflowId, type: req.jobType, userId: req.userId, domainId: req.domainId, input: req.input });
  const attributes: SearchAttributePair[] = [{ key: JobTypeAttr, value: req.jobType }];
  if (req.userId) attributes.push({ key: UserIdAttr, value: req.userId });
  if (req.domainId) attributes.push({ key: DomainIdAttr, value: req.domainId });
  await deps.temporal.workflow.start(req.workflowType, {
    workflowId: req.workflowId,
    taskQueue: req.taskQueue,
    args: req.args,
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
    typedSearchAttributes: new TypedSearchAttributes(attributes),
    memo: { jobType: req.jobType, ...(req.userId ? { userId: req.userId } : {}) },
  });
  return { runId: req.workflowId };
}
