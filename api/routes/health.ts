import { Router } from 'express';
import { sql } from 'kysely';
import type { ApiDeps } from '../deps';
import { HttpProblem } from '../problem';

export function healthRouter(deps: ApiDeps): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, _res, next) => {
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
    if (failing.length > 0) {
      next(new HttpProblem(503, 'not-ready', 'Service Unavailable', failing.map(([k, v]) => `${k} ${v}`).join('; '), { checks }));
      return;
    }
    _res.json({ status: 'ready', checks });
  });
  return router;
}
