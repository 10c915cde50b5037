import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import { SmokeInputSchema } from '../../schemas/smoke';
import { SMOKE_JOB_TYPE, SMOKE_WORKFLOW_TYPE, smokeWorkflowId } from '../../workflows/smoke/contract';
import type { ApiDeps } from '../deps';
import { startRun } from '../run-starter';

/** POST /v1/smoke → a tiny workflow that waits, then writes through an activity. */
export function smokeRouter(deps: ApiDeps): Router {
  const router = Router();
  router.post('/v1/smoke', async (req, res) => {
    const input = SmokeInputSchema.parse(req.body ?? {});
    const userId: string | null = res.locals.userId ?? null;
    const { runId } = await startRun(deps, {
      workflowType: SMOKE_WORKFLOW_TYPE,
      workflowId: smokeWorkflowId(randomUUID()),
      jobType: SMOKE_JOB_TYPE,
      taskQueue: deps.taskQueues.main,
      args: [{ ...input, userId }],
      userId,
      input,
    });
    res.status(202).json({ runId, statusUrl: `/v1/runs/${encodeURIComponent(runId)}` });
  });
  return router;
}
