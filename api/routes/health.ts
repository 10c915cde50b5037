import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { Router } from 'express';
import { z } from 'zod';
import { probeDatabase } from '../../db/repositories/health';
import type { ApiDeps } from '../deps';
import { OUTAGE_RETRY_AFTER_SECONDS } from '../outage';
import { HttpProblem } from '../problem';
import { json, problems, type RouteModule } from '../route-module';

const TEMPORAL_PROBE_DEADLINE_MS = 3000;

function router(deps: ApiDeps): Router {
  const r = Router();
  r.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  r.get('/readyz', async (_req, res) => {
    const checks: Record<string, string> = {};
    try {
      await probeDatabase(deps.db);
      checks.postgres = 'ok';
    } catch (err) {
      // The reason goes to the log only: a public probe must not read driver errors (hosts, users, ports).
      deps.logger.warn({ err }, 'readiness: PostgreSQL unreachable');
      checks.postgres = 'unreachable';
    }
    try {
      // A deadline, so a server that accepts connections but never answers cannot hang the probe.
      await deps.temporal.connection.withDeadline(Date.now() + TEMPORAL_PROBE_DEADLINE_MS, () =>
        deps.temporal.connection.workflowService.describeNamespace({ namespace: deps.config.TEMPORAL_NAMESPACE }),
      );
      checks.temporal = 'ok';
    } catch (err) {
      deps.logger.warn({ err }, 'readiness: Temporal unreachable');
      checks.temporal = 'unreachable';
    }
    const failing = Object.entries(checks).filter(([, v]) => v !== 'ok');
    if (failing.length > 0)
      throw new HttpProblem(
        503,
        'not-ready',
        'Service Unavailable',
        failing.map(([k, v]) => `${k} ${v}`).join('; '),
        { checks },
        { 'Retry-After': String(OUTAGE_RETRY_AFTER_SECONDS) },
      );
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
    // 429: a request carrying an API key counts against that key's plan limit like any other.
    responses: { '200': json(z.object({ status: z.literal('ok') }), 'Alive'), ...problems(429) },
  });
  registry.registerPath({
    method: 'get',
    path: '/readyz',
    tags: ['Health'],
    summary: 'Readiness: PostgreSQL and Temporal reachable',
    responses: {
      '200': json(z.object({ status: z.literal('ready'), checks: z.record(z.string(), z.string()) }), 'Ready'),
      ...problems(429, 503),
    },
  });
}

export const healthRoutes: RouteModule = { router, document };
