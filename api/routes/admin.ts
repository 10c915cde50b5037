import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { Router } from 'express';
import { createApiKey } from '../../db/repositories/api-keys';
import { createUser } from '../../db/repositories/users';
import { AdminCreateUserBodySchema, AdminCreatedUserSchema } from '../../schemas/api-admin';
import { ADMIN_SCOPES, USER_SCOPES } from '../../schemas/api-keys';
import { RedriveBodySchema, RedriveReportSchema } from '../../schemas/operations';
import { UuidParamSchema } from '../../schemas/common';
import { AiUsageViewSchema } from '../../schemas/content-plans';
import { recordAudit } from '../audit';
import { caller, requireScope } from '../auth';
import type { ApiDeps } from '../deps';
import { HttpProblem } from '../problem';
import { redriveRuns } from '../redrive';
import { usageViewOf } from './content-plans';
import { bearer, json, problems, type RouteModule } from '../route-module';

const UNIQUE_VIOLATION = '23505';

function router(deps: ApiDeps): Router {
  const r = Router();

  r.post('/v1/admin/users', requireScope('admin'), async (req, res) => {
    const body = AdminCreateUserBodySchema.parse(req.body ?? {});
    const admin = caller(res);
    const created = await deps.db
      .transaction()
      .execute(async (tx) => {
        const user = await createUser(tx, { email: body.email, plan: body.plan, role: body.role });
        const { plaintext } = await createApiKey(tx, {
          userId: user.id,
          name: 'initial key',
          scopes: body.role === 'admin' ? ADMIN_SCOPES : USER_SCOPES,
        });
        await recordAudit(tx, req, {
          userId: admin.userId,
          action: 'user.create',
          entityType: 'user',
          entityId: user.id,
          newValues: { email: body.email, plan: body.plan, role: body.role },
        });
        return { user, plaintext };
      })
      .catch((err: unknown) => {
        if ((err as { code?: string }).code === UNIQUE_VIOLATION)
          throw new HttpProblem(409, 'conflict', 'Conflict', 'a user with this email already exists');
        throw err;
      });
    res.status(201).json({
      userId: created.user.id,
      email: created.user.email,
      plan: created.user.subscription_tier,
      role: created.user.role,
      apiKey: created.plaintext,
    });
  });

  r.get('/v1/admin/users/:id/usage', requireScope('admin'), async (req, res) => {
    const { id } = UuidParamSchema.parse(req.params);
    res.json(await usageViewOf(deps, id));
  });

  r.post('/v1/admin/runs/redrive', requireScope('admin'), async (req, res) => {
    const body = RedriveBodySchema.parse(req.body ?? {});
    const report = await redriveRuns(deps, body);
    await recordAudit(deps.db, req, {
      userId: caller(res).userId,
      action: body.dryRun ? 'runs.redrive.dry_run' : 'runs.redrive',
      entityType: 'job_type',
      entityId: body.type,
      newValues: { filter: body, matched: report.matched, restarted: report.restarted.map((r) => r.runId), skipped: report.skipped },
    });
    res.json(report);
  });

  return r;
}

function document(registry: OpenAPIRegistry): void {
  registry.registerPath({
    method: 'post',
    path: '/v1/admin/users',
    tags: ['Admin'],
    summary: 'Create a user on a plan, with a first API key (admin scope and role)',
    security: bearer(),
    request: { body: { required: true, content: { 'application/json': { schema: AdminCreateUserBodySchema } } } },
    responses: {
      '201': json(AdminCreatedUserSchema, 'The user and their API key (shown once)'),
      ...problems(400, 401, 403, 409, 413, 415, 429),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/admin/users/{id}/usage',
    tags: ['Admin'],
    summary: "A user's AI spend and cost in the current usage period, as GET /v1/usage answers them (admin scope)",
    security: bearer(),
    request: { params: UuidParamSchema },
    responses: { '200': json(AiUsageViewSchema, 'AI usage and the period cost'), ...problems(400, 401, 403, 404, 429) },
  });
  registry.registerPath({
    method: 'post',
    path: '/v1/admin/runs/redrive',
    tags: ['Admin'],
    summary: 'Start failed runs of one type again with their original input (admin scope)',
    description:
      'Failed runs of `type` that failed in [from, to) (and with `errorType`, when given), oldest first, at most `limit`, are started again under their own workflow id (a new execution; the job_runs row reopens), `startsPerSecond` at a time. A run Temporal no longer keeps, whose id already ran again, or whose owner is at the concurrency cap is skipped with the reason. Types whose failed id must not run again (one-shot ids, holds refunded on failure, long-lived runs) are 422 naming `type`. `dryRun` lists without starting.',
    security: bearer(),
    request: { body: { required: true, content: { 'application/json': { schema: RedriveBodySchema } } } },
    responses: {
      '200': json(RedriveReportSchema, 'What was restarted and what was skipped, and why'),
      ...problems(400, 401, 403, 413, 415, 422, 429),
    },
  });
}

export const adminRoutes: RouteModule = { router, document };
