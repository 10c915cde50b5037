import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { Router } from 'express';
import { createApiKey } from '../../db/repositories/api-keys';
import { createUser } from '../../db/repositories/users';
import { AdminCreateUserBodySchema, AdminCreatedUserSchema } from '../../schemas/api-admin';
import { ADMIN_SCOPES, USER_SCOPES } from '../../schemas/api-keys';
import { recordAudit } from '../audit';
import { caller, requireScope } from '../auth';
import type { ApiDeps } from '../deps';
import { HttpProblem } from '../problem';
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
}

export const adminRoutes: RouteModule = { router, document };
