import { randomUUID } from 'node:crypto';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { ApplicationFailure } from '@temporalio/common';
import { Router } from 'express';
import { z } from 'zod';
import type { ConnectedAccount } from '../../providers/social/oauth';
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
import { secretAad } from '../../lib/secrets';
import { ProblemSchema, UuidParamSchema } from '../../schemas/common';
import { FailureType } from '../../schemas/failures';
import {
  ConnectAyrshareBodySchema,
  ConnectSocialAccountBodySchema,
  normalizePlatformUserId,
  SocialAccountViewSchema,
  SocialOAuthCallbackBodySchema,
  SocialOAuthStartedSchema,
  StartSocialOAuthBodySchema,
  type PostPlatform,
  type SocialAccountView,
} from '../../schemas/posts';
import { caller, requireScope } from '../auth';
import { providersOf, secretsOf, type ApiDeps } from '../deps';
import { badField, lazySocialOAuth, oauthProblem, spendOAuthState, startOAuthFlow } from '../oauth-state';
import { HttpProblem, notFound } from '../problem';
import { socialSchedulesOf } from '../social-schedules';
import { bearer, json, problems, type RouteModule } from '../route-module';

const UNIQUE_VIOLATION = '23505';
const OAUTH_CALLBACK_PATH = '/v1/social-accounts/oauth/callback';

export function socialAccountView(account: SocialAccount): SocialAccountView {
  return {
    id: account.id,
    platform: account.platform === 'ayrshare' ? 'ayrshare' : (fromStoredPlatform(account.platform) ?? 'x'),
    platformUserId: account.platform_user_id,
    username: account.username,
    status: account.status,
    lastError: account.last_error,
    tokenExpiresAt: account.token_expires_at?.toISOString() ?? null,
    createdAt: account.created_at.toISOString(),
  };
}

function router(deps: ApiDeps): Router {
  const r = Router();
  const { db } = deps;
  const oauth = lazySocialOAuth(deps);

  /**
   * Stores an account's tokens sealed with AES-256-GCM bound to the row id. The same platform
   * identity again is a reconnect: the row keeps its id (posts point at it) and gets the new
   * tokens and `active` status.
   */
  async function saveAccount(
    userId: string,
    platform: PostPlatform | 'ayrshare',
    account: Omit<ConnectedAccount, 'platformUserId'> & { platformUserId: string | null },
  ) {
    const stored = platform === 'ayrshare' ? platform : toStoredPlatform(platform);
    const tokens = JSON.stringify({ access_token: account.accessToken, refresh_token: account.refreshToken });
    const write = (id: string) => ({
      id,
      userId,
      platform: stored,
      platformUserId: account.platformUserId,
      username: account.username,
      encryptedTokens: secretsOf(deps).encrypt(tokens, secretAad('social_accounts', 'encrypted_tokens', id)),
      tokenExpiresAt: account.expiresAt,
    });
    const connect = async () => {
      const existing = await findSocialAccountByIdentity(db, userId, stored, account.platformUserId);
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
    // Its comments poll and daily analytics: created, or resumed after a revocation paused them.
    await socialSchedulesOf(deps).ensure({ id: outcome.account.id, userId, platform: stored });
    return outcome;
  }

  /**
   * The user's Ayrshare profile, checked with Ayrshare (GET /api/user) and stored sealed like an
   * OAuth token; one per user (a new key replaces the old). An unknown key is 422 naming profileKey.
   */
  async function connectAyrshare(userId: string, profileKey: string) {
    let title: string | null;
    try {
      ({ title } = await providersOf(deps).ayrshare.profile(profileKey));
    } catch (err) {
      if (err instanceof ApplicationFailure && err.type === FailureType.ProviderAuth)
        throw new HttpProblem(422, 'validation', 'Validation failed', 'profileKey: Ayrshare does not know this profile key', {
          errors: [{ field: 'profileKey', message: 'Ayrshare does not know this profile key' }],
        });
      throw err;
    }
    return saveAccount(userId, 'ayrshare', {
      platformUserId: null,
      username: title,
      accessToken: profileKey,
      refreshToken: null,
      expiresAt: null,
    });
  }

  /**
   * Either imports an account's tokens, or (a body of `{ platform, redirectUri }`) starts the
   * platform's OAuth flow: a one-time state bound to the caller, and the consent screen URL.
   */
  r.post('/v1/social-accounts', requireScope('runs:write'), async (req, res) => {
    const { userId } = caller(res);
    const raw = (req.body ?? {}) as Record<string, unknown>;
    if (raw.accessToken === undefined && raw.redirectUri !== undefined) {
      const body = StartSocialOAuthBodySchema.parse(raw);
      const started = await startOAuthFlow(
        db,
        { userId, platform: toStoredPlatform(body.platform), purpose: 'social_account', redirectUri: body.redirectUri },
        (state) => {
          try {
            return oauth().authorizationUrl(body.platform, { redirectUri: body.redirectUri, state });
          } catch (err) {
            throw oauthProblem(err, body.platform) ?? err;
          }
        },
      );
      res.status(200).json(started);
      return;
    }
    if (raw.platform === 'ayrshare') {
      const outcome = await connectAyrshare(userId, ConnectAyrshareBodySchema.parse(raw).profileKey);
      res.status(outcome.created ? 201 : 200).json(socialAccountView(outcome.account));
      return;
    }
    const body = ConnectSocialAccountBodySchema.parse(raw);
    if (body.platform !== 'tiktok' && !body.platformUserId)
      throw new HttpProblem(422, 'validation', 'Validation failed', `platformUserId: required for ${body.platform}`, {
        errors: [
          {
            field: 'platformUserId',
            message: `${body.platform} posts are made as this account id (page id, user id, channel id or author URN)`,
          },
        ],
      });
    const platformUserId = body.platformUserId === undefined ? undefined : normalizePlatformUserId(body.platform, body.platformUserId);
    if (platformUserId && 'error' in platformUserId)
      throw new HttpProblem(422, 'validation', 'Validation failed', `platformUserId: ${platformUserId.error}`, {
        errors: [{ field: 'platformUserId', message: platformUserId.error }],
      });
    const outcome = await saveAccount(userId, body.platform, {
      platformUserId: platformUserId?.id ?? null,
      username: body.username ?? null,
      accessToken: body.accessToken,
      refreshToken: body.refreshToken ?? null,
      expiresAt: body.tokenExpiresAt ? new Date(body.tokenExpiresAt) : null,
    });
    res.status(outcome.created ? 201 : 200).json(socialAccountView(outcome.account));
  });

  /**
   * Finishes an OAuth flow: the client posts the `code` and `state` its redirect page received.
   * The state is spent first (one use, the caller's own, not expired), then the code is exchanged
   * at the platform and the tokens are stored exactly like an import.
   */
  r.post(OAUTH_CALLBACK_PATH, requireScope('runs:write'), async (req, res) => {
    const { userId } = caller(res);
    const body = SocialOAuthCallbackBodySchema.parse(req.body ?? {});
    const flow = await spendOAuthState(db, userId, body.state, 'social_account');
    const platform = fromStoredPlatform(flow.platform);
    if (platform !== 'youtube' && platform !== 'tiktok')
      throw badField('state', `${flow.platform} accounts cannot be connected through OAuth here`);
    let connected: ConnectedAccount;
    try {
      connected = await oauth().exchangeCode(platform, { code: body.code, redirectUri: flow.redirect_uri });
    } catch (err) {
      throw oauthProblem(err, platform) ?? err;
    }
    const outcome = await saveAccount(userId, platform, connected);
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
    await socialSchedulesOf(deps).remove(account.id);
    res.status(204).end();
  });

  return r;
}

function document(registry: OpenAPIRegistry): void {
  registry.registerPath({
    method: 'post',
    path: '/v1/social-accounts',
    tags: ['Social'],
    summary: "Connect a social account: import its OAuth tokens, start the platform's OAuth flow, or connect an Ayrshare profile",
    description: [
      'Token import (`accessToken`, ...): the tokens are stored encrypted; the same platform identity again reconnects the existing account (200).',
      '',
      'Ayrshare (`{ platform: "ayrshare", profileKey }`): the profile key is checked with Ayrshare and stored encrypted; posts with `platforms` then go through Ayrshare to networks without an own account (422 naming `profileKey` when Ayrshare refuses it).',
      '',
      `OAuth (\`{ platform, redirectUri }\`, YouTube and TikTok): answers 200 with the consent screen URL and a one-time \`state\` bound to the caller (valid 10 minutes). The platform sends the browser back to \`redirectUri\` with \`code\` and \`state\`; post both to \`${OAUTH_CALLBACK_PATH}\` to finish.`,
    ].join('\n'),
    security: bearer(),
    request: {
      body: {
        required: true,
        content: {
          'application/json': { schema: z.union([ConnectSocialAccountBodySchema, ConnectAyrshareBodySchema, StartSocialOAuthBodySchema]) },
        },
      },
    },
    responses: {
      '201': json(SocialAccountViewSchema, 'Connected (token import)'),
      '200': json(z.union([SocialAccountViewSchema, SocialOAuthStartedSchema]), 'Reconnected (token import), or the OAuth flow started'),
      ...problems(400, 401, 403, 413, 415, 422, 429, 503),
    },
  });
  registry.registerPath({
    method: 'post',
    path: OAUTH_CALLBACK_PATH,
    tags: ['Social'],
    summary: 'Finish an OAuth connect flow with the code and state of the redirect',
    description:
      'The state must be one this caller started, unused and unexpired (else 400 naming `state`); the code is exchanged at the platform (refused: 400 naming `code`) and the tokens are stored encrypted, like a token import. 201 for a new account, 200 when it reconnects an existing one.',
    security: bearer(),
    request: { body: { required: true, content: { 'application/json': { schema: SocialOAuthCallbackBodySchema } } } },
    responses: {
      '201': json(SocialAccountViewSchema, 'Connected'),
      '200': json(SocialAccountViewSchema, 'Reconnected'),
      ...problems(400, 401, 403, 413, 415, 429, 503),
      '502': { description: 'The platform could not be reached', content: { 'application/problem+json': { schema: ProblemSchema } } },
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
    summary:
      'Disconnect a social account: its tokens are deleted, its scheduled posts fail with the reason, its comments poll and analytics schedules are removed',
    security: bearer(),
    request: { params: UuidParamSchema },
    responses: { '204': { description: 'Disconnected' }, ...problems(400, 401, 403, 404, 429) },
  });
}

export const socialAccountRoutes: RouteModule = { router, document };
