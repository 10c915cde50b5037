import { basename } from 'node:path';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { ApplicationFailure } from '@temporalio/common';
import { Router } from 'express';
import { createGoogleTokens } from '../../providers/google/tokens';
import type { Providers } from '../../providers';
import { FailureType } from '../../schemas/failures';
import { findDriveCredential } from '../../db/repositories/google-credentials';
import type { UserPlan } from '../../db/repositories/plans';
import { ConfigError } from '../../lib/config';
import { createSecretBox, loadEncryptionKey } from '../../lib/secrets';
import { safeFetch, UnsafeUrlError, urlGuardOptions } from '../../lib/ssrf';
import { IdempotencyKeyHeaderSchema } from '../../schemas/common';
import { VideoFileImportBodySchema, type VideoFileImportBody } from '../../schemas/video-file-import';
import { IngestStartedSchema, type IngestStarted } from '../../schemas/video-ingest';
import { caller, requireScope } from '../auth';
import { providersOf, type ApiDeps } from '../deps';
import { sendIdempotent } from '../idempotency';
import { HttpProblem } from '../problem';
import { bearer, json, problems, type RouteModule } from '../route-module';
import { bareMediaType, createVideoIntake, fieldProblem, isAcceptedVideoType, notAVideoProblem, tooLargeProblem } from '../video-intake';

/** The pre-flight request's wait for the source's status line and headers. */
const PREFLIGHT_TIMEOUT_MS = 15_000;

const DRIVE_NOT_CONNECTED = 'drive-not-connected';

/** The last path segment of a URL, decoded when it can be: the default title. */
function urlFileName(url: string): string {
  const segment = basename(new URL(url).pathname);
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/**
 * What can be known of a URL without downloading it: the SSRF guard on every hop (400), then the
 * source's status and headers — missing (422), not a video type (422), a declared length over the
 * plan (413). The body is not read; the ingest run downloads it.
 */
async function preflightUrl(deps: ApiDeps, url: string, plan: UserPlan): Promise<string> {
  let res: Response;
  try {
    res = await safeFetch(url, { timeoutMs: PREFLIGHT_TIMEOUT_MS }, urlGuardOptions(deps.config));
  } catch (err) {
    if (err instanceof UnsafeUrlError) throw fieldProblem(400, 'validation', 'Validation failed', 'url', err.message);
    throw fieldProblem(422, 'source-unreachable', 'Source Unreachable', 'url', `the video could not be fetched: ${(err as Error).message}`);
  }
  await res.body?.cancel().catch(() => undefined);
  if (!res.ok) throw fieldProblem(422, 'source-unreachable', 'Source Unreachable', 'url', `the server answered HTTP ${res.status}`);
  const mediaType = bareMediaType(res.headers.get('content-type'));
  if (!isAcceptedVideoType(mediaType)) throw notAVideoProblem('url', mediaType);
  if (Number(res.headers.get('content-length') ?? 0) > plan.features.maxUploadBytes) throw tooLargeProblem('url', plan);
  return urlFileName(res.url || url);
}

const failureType = (err: unknown) => (err instanceof ApplicationFailure ? err.type : undefined);

/** Google failures as problems naming driveFileId; unclassified errors stay 500s. */
function driveProblem(err: unknown, driveFileId: string): unknown {
  const type = failureType(err);
  const reason = (err as Error).message;
  if (err instanceof ConfigError)
    return new HttpProblem(503, 'provider-not-configured', 'Provider Not Configured', `Google Drive is not available here: ${reason}`);
  if (type === FailureType.NotFound) {
    return fieldProblem(
      404,
      'not-found',
      'Not Found',
      'driveFileId',
      `no file ${driveFileId} in the connected Google Drive (or it is not shared with it)`,
    );
  }
  if (type === FailureType.ProviderAuth) {
    return fieldProblem(
      422,
      DRIVE_NOT_CONNECTED,
      'Google Drive Not Connected',
      'driveFileId',
      `Google Drive refused the stored authorization; reconnect Google Drive (${reason})`,
    );
  }
  if (type === FailureType.RateLimited || type === FailureType.ProviderUnavailable || type === FailureType.ProviderTimeout) {
    return new HttpProblem(
      503,
      'provider-unavailable',
      'Provider Unavailable',
      `Google Drive is unavailable right now; try again (${reason})`,
      {},
      { 'Retry-After': '30' },
    );
  }
  return err;
}

function router(deps: ApiDeps): Router {
  const r = Router();
  const { db, config } = deps;
  const intake = createVideoIntake(deps);
  let google: { drive: Providers['drive']; accessToken: ReturnType<typeof createGoogleTokens> } | undefined;
  // Built on first Drive import: adapters need the Google key (or sandbox) and tokens the encryption key.
  const googleDrive = () => {
    if (!google) {
      const providers = providersOf(deps);
      google = {
        drive: providers.drive,
        accessToken: createGoogleTokens({ db, providers, secrets: createSecretBox(loadEncryptionKey(config)) }),
      };
    }
    return google;
  };

  /** The user's Drive access token (refreshed when due); 422 naming driveFileId when Drive is not usable. */
  async function driveAccessToken(userId: string): Promise<string> {
    const credential = await findDriveCredential(db, userId);
    const unusable = !credential
      ? 'Google Drive is not connected'
      : credential.status !== 'active'
        ? `the Google Drive connection is ${credential.status}; reconnect it`
        : undefined;
    if (!credential || unusable)
      throw fieldProblem(
        422,
        DRIVE_NOT_CONNECTED,
        'Google Drive Not Connected',
        'driveFileId',
        unusable ?? 'Google Drive is not connected',
      );
    return googleDrive().accessToken('cloud_storage_credentials', credential);
  }

  /** The Drive file's metadata (type and size checked up front); the ingest run downloads it. */
  async function preflightDrive(userId: string, driveFileId: string, plan: UserPlan) {
    try {
      const accessToken = await driveAccessToken(userId);
      const file = await googleDrive().drive.getFile({ accessToken, fileId: driveFileId });
      if (!isAcceptedVideoType(file.mimeType)) throw notAVideoProblem('driveFileId', file.mimeType);
      if ((file.size ?? 0) > plan.features.maxUploadBytes) throw tooLargeProblem('driveFileId', plan);
      return file;
    } catch (err) {
      throw driveProblem(err, driveFileId);
    }
  }

  async function importVideo(userId: string, body: VideoFileImportBody): Promise<IngestStarted> {
    const plan = await intake.requirePlan(userId);
    const common = { userId, plan, title: body.title, transcript: body.transcript, autoClips: body.autoClips };
    if (body.url !== undefined) {
      const filename = await preflightUrl(deps, body.url, plan);
      return intake.startRemote({ ...common, field: 'url', source: { ingest: { type: 'url', url: body.url }, url: body.url, filename } });
    }
    const driveFileId = body.driveFileId!;
    const file = await preflightDrive(userId, driveFileId, plan);
    return intake.startRemote({
      ...common,
      field: 'driveFileId',
      source: {
        ingest: { type: 'drive', driveFileId },
        url: file.webViewLink,
        filename: file.name,
        details: { driveFileId, driveFileName: file.name },
      },
    });
  }

  r.post('/v1/videos/import-file', requireScope('runs:write'), async (req, res) => {
    const body = VideoFileImportBodySchema.parse(req.body ?? {});
    const { userId } = caller(res);
    await sendIdempotent(db, req, res, userId, async () => ({ status: 202, body: await importVideo(userId, body) }));
  });
  return r;
}

function document(registry: OpenAPIRegistry): void {
  registry.registerPath({
    method: 'post',
    path: '/v1/videos/import-file',
    tags: ['Videos'],
    summary: 'Import a video file from a URL or from Google Drive (with its SRT/WebVTT transcript) as a source for clips',
    description: [
      'Send exactly one of `url` or `driveFileId`. Answers 202 with the video id and its `ingest:<videoId>` run at',
      'once; what is knowable without downloading is checked first: `url` must be https on a public address',
      '(private, loopback, link-local and metadata addresses are refused with 400, on every redirect too) and its',
      'server must answer a video type (422) of a declared size within the plan (413); `driveFileId` reads the Google',
      'Drive connected to the account (not connected or revoked is 422 `drive-not-connected`, an unknown file 404).',
      "The plan's monthly video slot is reserved (402 when used up). The run then downloads (within the plan's size",
      'while streaming, resuming with Range after a crash), checks with ffprobe and the plan duration, and ends the',
      'video `ready`, or `failed` with the reason and the slot refunded. `autoClips` chains a clips run. Honours Idempotency-Key.',
    ].join(' '),
    security: bearer(),
    request: {
      headers: IdempotencyKeyHeaderSchema,
      body: { required: true, content: { 'application/json': { schema: VideoFileImportBodySchema } } },
    },
    responses: { '202': json(IngestStartedSchema, 'Ingest started'), ...problems(400, 401, 402, 403, 404, 409, 413, 415, 422, 429, 503) },
  });
}

export const videoFileImportRoutes: RouteModule = { router, document };
