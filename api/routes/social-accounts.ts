import { randomUUID } from 'node:crypto';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { Router } from 'express';
import { z } from 'zod';
import {
  disconnectSocialAccount,
  findSocialAccountByIdentity,
  findUserSocialAccount,
  fromStoredPlatform,
  insertSocialAccount,
  listUserSocialAccounts,
  reconnectSocialAccount,
  toStoredPlatform,
  type SocialAccount,
} from '../../db/repositories/posts';
import type { Config } from '../../lib/config';
import { createSecretBox, loadEncryptionKey, secretAad, type SecretBox } from '../../lib/secrets';
import { UuidParamSchema } from '../../schemas/common';
import { ConnectSocialAccountBodySchema, SocialAccountViewSchema, type SocialAccountView } from '../../schemas/posts';
import { caller, requireScope } from '../auth';
import type { ApiDeps } from '../deps';
import { HttpProblem, notFound } from '../problem';
import { bearer, json, problems, type RouteModule } from '../route-module';

const UNIQUE_VIOLATION = '23505';

export function socialAccountView(account: SocialAccount): SocialAccountView {
  return {
    id: account.id,
    platform: fromStoredPlatform(account.platform) ?? 'x',
    platformUserId: account.platform_user_id,
    username: account.username,
    status: account.status,
    lastError: account.last_error,
    tokenExpiresAt: account.token_expires_at?.toISOString() ?? null,
    createdAt: account.created_at.toISOString(),
  };
}

/** Built on first use: only token imports need the key (production refuses to start without one). */
function lazySecretBox(config: Config): () => SecretBox {
  let box: SecretBox | undefined;
  return () => (box ??= createSecretBox(loadEncryptionKey(config)));
}

function router(deps: ApiDeps): Router {
  const r = Router();
  const { db } = deps;
  const secrets = lazySecretBox(deps.config);

  /**
   * Imports an account's OAuth tokens, sealed with AES-256-GCM bound to the row id. The same
   * platform identity again is a reconnect: the row keeps its id (posts point at it) and gets
   * the new tokens and `active` status.
   */
  r.post('/v1/social-accounts', requireScope('runs:write'), async (req, res) => {
    const body = ConnectSocialAccountBodySchema.parse(req.body ?? {});
    const { userId } = caller(res);
    if (body.platform !== 'tiktok' && !body.platformUserId)
      throw new HttpProblem(422, 'validation', 'Validation failed', `platformUserId: required for ${body.platform}`, {
        errors: [{ field: 'platformUserId', message: `${body.platform} posts are made as this account id (page id, user id or author URN)` }],
      });
    const platform = toStoredPlatform(body.platform);
    const platformUserId = body.platformUserId ?? null;
    const tokens = JSON.stringify({ access_token: body.accessToken, refresh_token: body.refreshToken ?? null });
    const write = (id: string) => ({
      id,
      userId,
      platform,
      platformUserId,
      username: body.username ?? null,
      encryptedTokens: secrets().encrypt(tokens, secretAad('social_accounts', 'encrypted_tokens', id)),
      tokenExpiresAt: body.tokenExpiresAt ? new Date(body.tokenExpiresAt) : null,
    });

    const connect = async () => {
      const existing = await findSocialAccountByIdentity(db, userId, platform, platformUserId);
      if (existing) return { account: await reconnectSocialAccount(db, write(existing.id)), created: false };
      return { account: await insertSocialAccount(db, write(randomUUID())), created: true };
    };
    let outcome: Awaited<ReturnType<typeof connect>>;
    try {
      outcome = await connect();
    } catch (err) {
      // A concurrent connect of the same identity inserted first: reconnect that row instead.
      if ((err as { code?: string }).code !== UNIQUE_VIOLATION) throw err;
      outcome = await connect();
    }
    res.status(outcome.created ? 201 : 200).json(socialAccountView(outcome.account));
  });

  r.get('/v1/social-accounts', requireScope('runs:read'), async (_req, res) => {
    const accounts = await listUserSocialAccounts(db, caller(res).userId);
    res.json({ accounts: accounts.map(socialAccountView) });
  });

  /** Disconnect: tokens are dropped; posts still scheduled on the account fail at their time with the reason. */
  r.delete('/v1/social-accounts/:id', requireScope('runs:write'), async (req, res) => {
    const { id } = UuidParamSchema.parse(req.params);
    const account = await findUserSocialAccount(db, caller(res).userId, id);
    if (!account) throw notFound('social account');
    await disconnectSocialAccount(db, account.id);
    res.status(204).end();
  });

  return r;
}

function document(registry: OpenAPIRegistry): void {
  registry.registerPath({
    method: 'post',
    path: '/v1/social-accounts',
    tags: ['Social'],
    summary: 'Connect a social account by importing its OAuth tokens (stored encrypted)',
    description: 'The same platform identity again reconnects the existing account (200) with the new tokens.',
    security: bearer(),
    request: { body: { required: true, content: { 'application/json': { schema: ConnectSocialAccountBodySchema } } } },
    responses: {
      '201': json(SocialAccountViewSchema, 'Connected'),
      '200': json(SocialAccountViewSchema, 'Reconnected'),
      ...problems(400, 401, 403, 413, 415, 422, 429),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/social-accounts',
    tags: ['Social'],
    summary: "The caller's social accounts (never their tokens)",
    security: bearer(),
    responses: { '200': json(z.object({ accounts: z.array(SocialAccountViewSchema) }), 'Accounts'), ...problems(401, 403, 429) },
  });
  registry.registerPath({
    method: 'delete',
    path: '/v1/social-accounts/{id}',
    tags: ['Social'],
    summary: 'Disconnect a social account: its tokens are deleted, its scheduled posts fail with the reason',
    security: bearer(),
    request: { params: UuidParamSchema },
    responses: { '204': { description: 'Disconnected' }, ...problems(400, 401, 403, 404, 429) },
  });
}

export const socialAccountRoutes: RouteModule = { router, document };
