import { randomUUID } from 'node:crypto';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { Router } from 'express';
import { RunStartedSchema } from '../../schemas/api-runs';
import { IdempotencyKeyHeaderSchema } from '../../schemas/common';
import { SmokeInputSchema } from '../../schemas/smoke';
import { smokeRun, smokeWorkflowId } from '../../workflows/smoke/contract';
import { caller, requireScope } from '../auth';
import type { ApiDeps } from '../deps';
import { sendIdempotent } from '../idempotency';
import { bearer, json, problems, type RouteModule } from '../route-module';
import { runStartedBody, startRun } from '../run-starter';

/** POST /v1/smoke → a tiny workflow that waits, then writes through an activity. */
function router(deps: ApiDeps): Router {
  const r = Router();
  r.post('/v1/smoke', requireScope('runs:write'), async (req, res) => {
    const input = SmokeInputSchema.parse(req.body ?? {});
    const { userId } = caller(res);
    await sendIdempotent(deps.db, req, res, userId, async () => {
      const { runId } = await startRun(deps, smokeRun, { workflowId: smokeWorkflowId(randomUUID()), args: [{ ...input, userId }], input });
      return { status: 202, body: runStartedBody(runId) };
    });
  });
  return r;
}

function document(registry: OpenAPIRegistry): void {
  registry.registerPath({
    method: 'post',
    path: '/v1/smoke',
    // The console renders a start form for every POST tagged Jobs.
    tags: ['Jobs'],
    summary: 'Smoke run: waits delayMs on a durable timer, then greets through an activity',
    security: bearer(),
    request: {
      headers: IdempotencyKeyHeaderSchema,
      body: { required: false, content: { 'application/json': { schema: SmokeInputSchema } } },
    },
    responses: {
      '202': json(RunStartedSchema, 'Run started (or the earlier run, for a repeated Idempotency-Key)'),
      ...problems(400, 401, 403, 409, 413, 415, 422, 429),
    },
  });
}

export const smokeRoutes: RouteModule = { router, document };
