import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { Router } from 'express';
import { sql } from 'kysely';
import { z } from 'zod';
import type { ApiDeps } from '../deps';
import { HttpProblem } from '../problem';
import { json, problems, type RouteModule } from '../route-module';

function router(deps: ApiDeps): Router {
  const r = Router();
  r.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  r.get('/readyz', async (_req, res) => {
    const checks: Record<string, string> = {};
    try {
      await sql`select 1`.execute(deps.db);
      checks.postgres = 'ok';
    } catch (err) {
      checks.postgres = `unreachable: ${(err as Error).message}`;
    }
    try {
      await deps.temporal.connection.workflowService.describeNamespace({ namespace: deps.config.TEMPORAL_NAMESPACE });
      checks.temporal = 'ok';
    } catch (err) {
      checks.temporal = `unreachable: ${(err as Error).message.split('\n')[0]}`;
    }
    const failing = Object.entries(checks).filter(([, v]) => v !== 'ok');
    if (failing.length > 0)
      throw new HttpProblem(503, 'not-ready', 'Service Unavailable', failing.map(([k, v]) => `${k} ${v}`).join('; '), { checks });
    res.json({ status: 'ready', checks });
  });
  return r;
}

function document(registry: OpenAPIRegistry): void {
  registry.registerPath({
    method: 'get',
    path: '/healthz',
    tags: ['Health'],
    summary: 'Liveness: the process answers',
    responses: { '200': json(z.object({ status: z.literal('ok') }), 'Alive') },
  });
  registry.registerPath({
    method: 'get',
    path: '/readyz',
    tags: ['Health'],
    summary: 'Readiness: PostgreSQL and Temporal reachable',
    responses: {
      '200': json(z.object({ status: z.literal('ready'), checks: z.record(z.string(), z.string()) }), 'Ready'),
      ...problems(503),
    },
  });
}

export const healthRoutes: RouteModule = { router, document };
