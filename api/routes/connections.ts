import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { ApplicationFailure } from '@temporalio/common';
import { Router } from 'express';
import { z } from 'zod';
import {
  countActiveChannels,
  countAutoImportChannels,
  deleteGoogleConnection,
  findGoogleConnection,
  listGoogleConnections,
  saveGoogleConnection,
  setChannelAutoImport,
  type GoogleConnectionDetails,
} from '../../db/repositories/google-connections';
import type { GoogleCredentialTable, SealedTokenRow } from '../../db/repositories/google-credentials';
import { getPlanForUser } from '../../db/repositories/plans';
import { setAutoExport } from '../../db/repositories/user-preferences';
import { findImportedYoutubeVideos } from '../../db/repositories/video-import';
import { secretAad } from '../../lib/secrets';
import { isAuthFailure, requestedRetryDelayMs } from '../../providers/errors';
import { createGoogleTokens } from '../../providers/google/tokens';
import type { GoogleGrant } from '../../providers/social/oauth';
import { ProblemSchema, UuidParamSchema } from '../../schemas/common';
import {
  ChannelVideosPageSchema,
  ConnectionVideosQuerySchema,
  ConnectionViewSchema,
  GoogleConnectionCallbackBodySchema,
  GoogleConnectionStartedSchema,
  StartGoogleConnectionBodySchema,
  UpdateConnectionBodySchema,
  type ChannelVideo,
  type ConnectionView,
  type GoogleService,
} from '../../schemas/connections';
import { FailureType } from '../../schemas/failures';
import { caller, requireScope } from '../auth';
import { providersOf, secretsOf, type ApiDeps } from '../deps';
import { lazySocialOAuth, oauthProblem, spendOAuthState, startOAuthFlow } from '../oauth-state';
import { HttpProblem, notFound } from '../problem';
import { bearer, json, problems, type RouteModule } from '../route-module';

const CALLBACK_PATH = '/v1/connections/google/callback';
/** Drive exports go to one folder per video. */
const DRIVE_FOLDER_PATTERN = 'AmplifyContent/{video_title} ({video_code})';
const CHANNEL_VIDEOS_PAGE_SIZE = 25;

const fieldProblem = (status: number, type: string, title: string, field: string, message: string) =>
  new HttpProblem(status, type, title, `${field}: ${message}`, { errors: [{ field, message }] });

function connectionView(c: GoogleConnectionDetails): ConnectionView {
  return {
    id: c.id,
    provider: 'google',
    services: c.services,
    ...(c.channel_id
      ? {
          channel: {
            id: c.channel_id,
            title: c.channel_name,
            autoImport: c.auto_import ?? false,
            lastSyncedAt: c.last_synced_at?.toISOString() ?? null,
          },
        }
      : {}),
    ...(c.account_email ? { email: c.account_email } : {}),
    status: c.status,
    statusReason: c.status_reason,
    createdAt: c.created_at.toISOString(),
  };
}

/** The sealed token row of a connection: its channel's, else its Drive credential's (both carry the same grant). */
function tokenRowOf(c: GoogleConnectionDetails): { table: GoogleCredentialTable; row: SealedTokenRow } | undefined {
  if (c.youtube_token_id && c.youtube_encrypted_tokens)
    return {
      table: 'youtube_oauth_tokens',
      row: { id: c.youtube_token_id, encrypted_tokens: c.youtube_encrypted_tokens, token_expires_at: c.youtube_token_expires_at },
    };
  if (c.drive_credential_id && c.drive_encrypted_tokens)
    return {
      table: 'cloud_storage_credentials',
      row: { id: c.drive_credential_id, encrypted_tokens: c.drive_encrypted_tokens, token_expires_at: c.drive_token_expires_at },
    };
  return undefined;
}

/** A provider failure while serving a request: revoked consent → 409 (connect again), YouTube's daily quota → 429 until the reset, else 502. */
function googleProblem(err: unknown): HttpProblem | undefined {
  if (!(err instanceof ApplicationFailure)) return undefined;
  if (isAuthFailure(err))
    return new HttpProblem(
      409,
      'connection-expired',
      'Connection Expired',
      'Google no longer accepts this connection; connect Google again',
    );
  if (err.type === FailureType.QuotaExceeded) {
    const retryAfter = String(Math.ceil((requestedRetryDelayMs(err) ?? 60_000) / 1000));
    return new HttpProblem(429, 'provider-quota', 'YouTube Quota Spent', err.message, {}, { 'Retry-After': retryAfter });
  }
  if (err.type === FailureType.NotFound) return undefined;
  return new HttpProblem(502, 'provider-unavailable', 'Provider Unavailable', `Google could not be reached: ${err.message}`);
}

function router(deps: ApiDeps): Router {
  const r = Router();
  const { db } = deps;
  const oauth = lazySocialOAuth(deps);
  let tokens: ReturnType<typeof createGoogleTokens> | undefined;
  /** A stored connection's access token, refreshed and re-sealed when due (invalid_grant expires the connection). */
  const accessToken = (table: GoogleCredentialTable, row: SealedTokenRow) =>
    (tokens ??= createGoogleTokens({ db, providers: providersOf(deps), secrets: secretsOf(deps), logger: deps.logger }))(table, row);

  const planOf = async (userId: string) => {
    const plan = await getPlanForUser(db, userId);
    if (!plan) throw notFound('user');
    return plan;
  };

  /** A YouTube channel beyond the plan's youtube_channel_limit is a service the plan does not allow (403). */
  async function requireChannelSlot(userId: string, channelId?: string): Promise<void> {
    const plan = await planOf(userId);
    const limit = plan.features.youtubeChannelLimit;
    if ((await countActiveChannels(db, userId, channelId)) < limit) return;
    throw new HttpProblem(
      403,
      'service-not-in-plan',
      'Service Not In Plan',
      `services: your ${plan.slug} plan connects up to ${limit} YouTube channel(s); disconnect one first`,
      {
        errors: [{ field: 'services', message: `youtube: the ${plan.slug} plan's channel limit (${limit}) is reached` }],
        plan: plan.slug,
      },
    );
  }

  /** Auto-import needs a plan with it (403) and stays within the plan's channel limit (422). */
  async function requireAutoImportSlot(userId: string, channelRowId: string): Promise<void> {
    const plan = await planOf(userId);
    if (!plan.features.youtubeAutoImport)
      throw new HttpProblem(
        403,
        'service-not-in-plan',
        'Service Not In Plan',
        `autoImport: your ${plan.slug} plan does not import channel uploads automatically`,
        { errors: [{ field: 'autoImport', message: `the ${plan.slug} plan has no YouTube auto-import` }], plan: plan.slug },
      );
    const limit = plan.features.youtubeChannelLimit;
    if ((await countAutoImportChannels(db, userId, channelRowId)) >= limit)
      throw fieldProblem(
        422,
        'channel-limit',
        'Channel Limit Reached',
        'autoImport',
        `your ${plan.slug} plan auto-imports up to ${limit} channel(s); turn it off on another channel first`,
      );
  }

  const ownConnection = async (userId: string, id: string) => {
    const connection = await findGoogleConnection(db, userId, id);
    if (!connection) throw notFound('connection');
    return connection;
  };

  /** The connection's channel account and Drive account, read with the new tokens. */
  async function describeGrant(userId: string, services: GoogleService[], grant: GoogleGrant) {
    const providers = providersOf(deps);
    try {
      const channel = services.includes('youtube')
        ? await providers.youtube.getChannel({ mine: true, accessToken: grant.accessToken })
        : undefined;
      if (channel) await requireChannelSlot(userId, channel.id);
      const account = services.includes('drive') ? await providers.drive.getAccount({ accessToken: grant.accessToken }) : undefined;
      return { channel, account };
    } catch (err) {
      if (err instanceof ApplicationFailure && err.type === FailureType.NotFound)
        throw fieldProblem(
          422,
          'no-youtube-channel',
          'No YouTube Channel',
          'services',
          'the Google account has no YouTube channel; create one or connect Drive only',
        );
      throw oauthProblem(err, 'Google') ?? err;
    }
  }

  r.post('/v1/connections/google', requireScope('runs:write'), async (req, res) => {
    const { userId } = caller(res);
    const body = StartGoogleConnectionBodySchema.parse(req.body ?? {});
    if (body.services.includes('youtube')) await requireChannelSlot(userId);
    // The Google OAuth app of the social connect flow: one app, one state table, scopes per service.
    const started = await startOAuthFlow(
      db,
      { userId, platform: 'youtube', purpose: 'google_connection', redirectUri: body.redirectUri, services: body.services },
      (state) => {
        try {
          return oauth().googleAuthorizationUrl({ redirectUri: body.redirectUri, state, services: body.services });
        } catch (err) {
          throw oauthProblem(err, 'Google') ?? err;
        }
      },
    );
    res.status(200).json(started);
  });

  r.post(CALLBACK_PATH, requireScope('runs:write'), async (req, res) => {
    const { userId } = caller(res);
    const body = GoogleConnectionCallbackBodySchema.parse(req.body ?? {});
    const flow = await spendOAuthState(db, userId, body.state, 'google_connection');
    const services = flow.services ?? [];
    let grant: GoogleGrant;
    try {
      grant = await oauth().exchangeGoogleCode({ code: body.code, redirectUri: flow.redirect_uri });
    } catch (err) {
      throw oauthProblem(err, 'Google') ?? err;
    }
    const { channel, account } = await describeGrant(userId, services, grant);
    const secrets = secretsOf(deps);
    const sealed = JSON.stringify({ access_token: grant.accessToken, refresh_token: grant.refreshToken });
    const seal = (table: GoogleCredentialTable) => (rowId: string) => secrets.encrypt(sealed, secretAad(table, 'encrypted_tokens', rowId));
    const id = await saveGoogleConnection(db, {
      userId,
      services,
      accountEmail: account?.email ?? null,
      expiresAt: grant.expiresAt,
      scopes: grant.scopes,
      ...(channel
        ? {
            youtube: {
              channelId: channel.id,
              title: channel.title,
              handle: channel.customUrl,
              description: channel.description,
              thumbnailUrl: Object.values(channel.thumbnails)[0]?.url ?? null,
              subscriberCount: channel.subscriberCount,
              videoCount: channel.videoCount,
              uploadsPlaylistId: channel.uploadsPlaylistId,
              sealYoutube: seal('youtube_oauth_tokens'),
            },
          }
        : {}),
      ...(account
        ? { drive: { accountName: account.name, folderNamingPattern: DRIVE_FOLDER_PATTERN, sealDrive: seal('cloud_storage_credentials') } }
        : {}),
    });
    deps.logger.info({ userId, connectionId: id, services }, 'Google connected');
    res.status(201).json(connectionView(await ownConnection(userId, id)));
  });

  r.get('/v1/connections', requireScope('runs:read'), async (_req, res) => {
    const connections = await listGoogleConnections(db, caller(res).userId);
    res.json({ connections: connections.map(connectionView) });
  });

  /** Revokes the consent at Google, then deletes the tokens; exports and channel imports then say Google is not connected. */
  r.delete('/v1/connections/:id', requireScope('runs:write'), async (req, res) => {
    const { id } = UuidParamSchema.parse(req.params);
    const connection = await ownConnection(caller(res).userId, id);
    const stored = tokenRowOf(connection);
    if (stored) {
      try {
        const grant = JSON.parse(
          secretsOf(deps).decrypt(stored.row.encrypted_tokens, secretAad(stored.table, 'encrypted_tokens', stored.row.id)),
        ) as { access_token: string; refresh_token?: string | null };
        await providersOf(deps).googleAuth.revokeGoogleToken(grant.refresh_token ?? grant.access_token);
      } catch (err) {
        // The user asked to disconnect: the tokens go whether or not Google confirmed (they can also revoke in their Google account).
        deps.logger.warn({ err, connectionId: id }, 'Google did not confirm the revocation; deleting the tokens anyway');
      }
    }
    await deleteGoogleConnection(db, connection);
    res.status(204).end();
  });

  r.get('/v1/connections/:id/videos', requireScope('runs:read'), async (req, res) => {
    const { id } = UuidParamSchema.parse(req.params);
    const { pageToken } = ConnectionVideosQuerySchema.parse(req.query);
    const { userId } = caller(res);
    const connection = await ownConnection(userId, id);
    const stored = tokenRowOf(connection);
    if (!connection.channel_id || stored?.table !== 'youtube_oauth_tokens')
      throw new HttpProblem(
        409,
        'not-a-youtube-connection',
        'No YouTube Channel',
        'this connection has no YouTube channel; connect Google with the youtube service',
      );
    if (connection.status !== 'active')
      throw new HttpProblem(
        409,
        'connection-expired',
        'Connection Expired',
        `this connection expired (${connection.status_reason ?? 'Google refused its tokens'}); connect Google again`,
      );
    const youtube = providersOf(deps).youtube;
    const channelData = connection.channel_data as { uploadsPlaylistId?: string } | null;
    try {
      const token = await accessToken(stored.table, stored.row);
      const page = await youtube.listUploads({
        uploadsPlaylistId: channelData?.uploadsPlaylistId ?? `UU${connection.channel_id.slice(2)}`,
        pageToken,
        maxResults: CHANNEL_VIDEOS_PAGE_SIZE,
        accessToken: token,
      });
      const ids = page.items.map((item) => item.videoId);
      const [details, imported] = await Promise.all([
        youtube.getVideos(ids, { accessToken: token }),
        findImportedYoutubeVideos(db, userId, ids),
      ]);
      const durations = new Map(details.map((v) => [v.id, v.durationSeconds]));
      const videos: ChannelVideo[] = page.items.map((item) => {
        const ours = imported.get(item.videoId);
        return {
          id: item.videoId,
          title: item.title,
          publishedAt: item.publishedAt,
          durationSeconds: durations.get(item.videoId) ?? null,
          imported: ours?.status === 'completed',
          videoId: ours?.id ?? null,
        };
      });
      res.json({ videos, nextPageToken: page.nextPageToken });
    } catch (err) {
      throw googleProblem(err) ?? err;
    }
  });

  r.patch('/v1/connections/:id', requireScope('runs:write'), async (req, res) => {
    const { id } = UuidParamSchema.parse(req.params);
    const body = UpdateConnectionBodySchema.parse(req.body ?? {});
    const { userId } = caller(res);
    const connection = await ownConnection(userId, id);
    if (body.autoExport !== undefined && !connection.drive_credential_id)
      throw fieldProblem(
        422,
        'validation',
        'Validation failed',
        'autoExport',
        'this connection has no Google Drive; connect Google with the drive service',
      );
    const channelRowId = connection.youtube_channel_row_id;
    if (body.autoImport !== undefined && !channelRowId)
      throw fieldProblem(
        422,
        'validation',
        'Validation failed',
        'autoImport',
        'this connection has no YouTube channel; connect Google with the youtube service',
      );
    if (body.autoImport && channelRowId) await requireAutoImportSlot(userId, channelRowId);
    if (body.autoExport !== undefined) await setAutoExport(db, userId, body.autoExport?.formats ?? null);
    if (body.autoImport !== undefined && channelRowId) await setChannelAutoImport(db, channelRowId, body.autoImport);
    res.json(connectionView(await ownConnection(userId, id)));
  });

  return r;
}

function document(registry: OpenAPIRegistry): void {
  const ConnectionIdParam = UuidParamSchema;
  registry.registerPath({
    method: 'post',
    path: '/v1/connections/google',
    tags: ['Connections'],
    summary: "Start connecting Google (your YouTube channel, your Drive): answers Google's consent screen URL",
    description: `One-time \`state\`, bound to the caller, valid 10 minutes. Google sends the browser back to \`redirectUri\` with \`code\` and \`state\`; post both to \`${CALLBACK_PATH}\`. A YouTube channel beyond the plan's channel limit is 403.`,
    security: bearer(),
    request: { body: { required: true, content: { 'application/json': { schema: StartGoogleConnectionBodySchema } } } },
    responses: {
      '200': json(GoogleConnectionStartedSchema, 'Consent screen URL and state'),
      ...problems(400, 401, 403, 413, 415, 429, 503),
    },
  });
  registry.registerPath({
    method: 'post',
    path: CALLBACK_PATH,
    tags: ['Connections'],
    summary: 'Finish connecting Google with the code and state of the redirect',
    description:
      'The state must be one this caller started, unused and unexpired (else 400 naming `state`); the code is exchanged at Google (refused: 400 naming `code`), the tokens are stored sealed (AES-256-GCM) in the channel and Drive rows. Connecting a channel or Drive again replaces the earlier connection of it.',
    security: bearer(),
    request: { body: { required: true, content: { 'application/json': { schema: GoogleConnectionCallbackBodySchema } } } },
    responses: {
      '201': json(ConnectionViewSchema, 'Connected'),
      ...problems(400, 401, 403, 413, 415, 422, 429, 503),
      '502': { description: 'Google could not be reached', content: { 'application/problem+json': { schema: ProblemSchema } } },
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/connections',
    tags: ['Connections'],
    summary: "The caller's Google connections (never their tokens)",
    security: bearer(),
    responses: { '200': json(z.object({ connections: z.array(ConnectionViewSchema) }), 'Connections'), ...problems(401, 403, 429) },
  });
  registry.registerPath({
    method: 'delete',
    path: '/v1/connections/{id}',
    tags: ['Connections'],
    summary: 'Disconnect: revokes the consent at Google and deletes the tokens (exports and channel imports then stop with that reason)',
    security: bearer(),
    request: { params: ConnectionIdParam },
    responses: { '204': { description: 'Disconnected' }, ...problems(400, 401, 403, 404, 429) },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/connections/{id}/videos',
    tags: ['Connections'],
    summary: "The connected channel's uploads, newest first, marked when imported",
    security: bearer(),
    request: { params: ConnectionIdParam, query: ConnectionVideosQuerySchema },
    responses: {
      '200': json(ChannelVideosPageSchema, 'One page of uploads'),
      ...problems(400, 401, 403, 404, 409, 429),
      '502': { description: 'Google could not be reached', content: { 'application/problem+json': { schema: ProblemSchema } } },
    },
  });
  registry.registerPath({
    method: 'patch',
    path: '/v1/connections/{id}',
    tags: ['Connections'],
    summary: "Connection settings: automatic Drive export of every finished import, automatic import of the channel's new uploads",
    description:
      "`autoImport: true` imports every upload published from now on (a sweep every 15 minutes, one import per upload, the plan's video quota as for `POST /v1/videos/import`). A plan without YouTube auto-import is 403; more auto-import channels than the plan's channel limit is 422.",
    security: bearer(),
    request: {
      params: ConnectionIdParam,
      body: { required: true, content: { 'application/json': { schema: UpdateConnectionBodySchema } } },
    },
    responses: { '200': json(ConnectionViewSchema, 'The connection'), ...problems(400, 401, 403, 404, 413, 415, 422, 429) },
  });
}

export const connectionRoutes: RouteModule = { router, document };
