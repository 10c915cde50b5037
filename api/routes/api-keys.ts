import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { Router } from 'express';
import { countLiveApiKeysLocked, createApiKey, listApiKeys, revokeApiKey } from '../../db/repositories/api-keys';
import type { ApiKey } from '../../db/types';
import {
  ApiKeyListSchema,
  CreateApiKeyBodySchema,
  CreatedApiKeySchema,
  MAX_API_KEYS_PER_USER,
  type ApiKeySummary,
} from '../../schemas/api-keys';
import { UuidParamSchema } from '../../schemas/common';
import { recordAudit } from '../audit';
import { isoOrNull, isoTimestamp } from '../dates';
import { caller, requireScope } from '../auth';
import { apiKeyLookupsOf } from '../api-key-cache';
import type { ApiDeps } from '../deps';
import { HttpProblem, notFound } from '../problem';
import { bearer, json, problems, type RouteModule } from '../route-module';

export function apiKeySummary(key: ApiKey): ApiKeySummary {
  return {
    id: key.id,
    name: key.name,
    prefix: key.key_prefix,
    scopes: key.scopes,
    rateLimit: key.rate_limit,
    expiresAt: isoOrNull(key.expires_at),
    revokedAt: isoOrNull(key.revoked_at),
    lastUsedAt: isoOrNull(key.last_used_at),
    usageCount: key.usage_count,
    createdAt: isoTimestamp(key.created_at),
  };
}

function router(deps: ApiDeps): Router {
  const r = Router();

  r.post('/v1/api-keys', requireScope('keys:manage'), async (req, res) => {
    const body = CreateApiKeyBodySchema.parse(req.body ?? {});
    const auth = caller(res);
    const scopes = body.scopes ?? auth.scopes;
    const beyond = scopes.filter((s) => !auth.scopes.includes(s));
    if (beyond.length > 0)
      throw new HttpProblem(403, 'forbidden', 'Forbidden', `a key cannot grant scopes its creator lacks: ${beyond.join(', ')}`);
    const expiresAt = body.expiresAt ? new Date(body.expiresAt) : null;
    if (expiresAt && expiresAt <= new Date()) {
      throw new HttpProblem(400, 'validation', 'Validation failed', 'expiresAt: must be in the future', {
        errors: [{ field: 'expiresAt', message: 'must be in the future' }],
      });
    }
    const { key, plaintext } = await deps.db.transaction().execute(async (tx) => {
      if ((await countLiveApiKeysLocked(tx, auth.userId)) >= MAX_API_KEYS_PER_USER)
        throw new HttpProblem(
          409,
          'api-key-limit',
          'Too Many API Keys',
          `a user holds at most ${MAX_API_KEYS_PER_USER} live keys: revoke one first`,
          {
            limit: MAX_API_KEYS_PER_USER,
          },
        );
      const created = await createApiKey(tx, { userId: auth.userId, name: body.name, scopes, expiresAt, rateLimit: body.rateLimit });
      await recordAudit(tx, req, {
        userId: auth.userId,
        action: 'api_key.create',
        entityType: 'api_key',
        entityId: created.key.id,
        newValues: { name: body.name, scopes },
      });
      return created;
    });
    res.status(201).json({ ...apiKeySummary(key), key: plaintext });
  });

  r.get('/v1/api-keys', requireScope('keys:manage'), async (_req, res) => {
    res.json({ data: (await listApiKeys(deps.db, caller(res).userId)).map(apiKeySummary) });
  });

  r.delete('/v1/api-keys/:id', requireScope('keys:manage'), async (req, res) => {
    const { id } = UuidParamSchema.parse(req.params);
    const auth = caller(res);
    const revoked = await deps.db.transaction().execute(async (tx) => {
      if (!(await revokeApiKey(tx, auth.userId, id))) return false;
      await recordAudit(tx, req, { userId: auth.userId, action: 'api_key.revoke', entityType: 'api_key', entityId: id });
      return true;
    });
    if (!revoked) throw notFound('API key');
    apiKeyLookupsOf(deps.db).forget(id);
    res.status(204).end();
  });

  return r;
}

function document(registry: OpenAPIRegistry): void {
  registry.registerPath({
    method: 'post',
    path: '/v1/api-keys',
    tags: ['API keys'],
    summary: 'Create an API key (the plaintext is shown once)',
    description: `A user holds at most ${MAX_API_KEYS_PER_USER} live keys (409 beyond); all of them share the plan's rate limit.`,
    security: bearer(),
    request: { body: { required: true, content: { 'application/json': { schema: CreateApiKeyBodySchema } } } },
    responses: { '201': json(CreatedApiKeySchema, 'The new key, with its plaintext'), ...problems(400, 401, 403, 409, 413, 415, 429) },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/api-keys',
    tags: ['API keys'],
    summary: "The caller's keys (never their secrets)",
    security: bearer(),
    responses: { '200': json(ApiKeyListSchema, 'Keys, newest first'), ...problems(401, 403, 429) },
  });
  registry.registerPath({
    method: 'delete',
    path: '/v1/api-keys/{id}',
    tags: ['API keys'],
    summary: 'Revoke one of the caller’s keys',
    security: bearer(),
    request: { params: UuidParamSchema },
    responses: { '204': { description: 'Revoked' }, ...problems(400, 401, 403, 404, 429) },
  });
}

export const apiKeyRoutes: RouteModule = { router, document };
