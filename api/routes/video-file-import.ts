import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Readable } from 'node:stream';
import type { ReadableStream } from 'node:stream/web';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { ApplicationFailure } from '@temporalio/common';
import { Router, type Response as ExpressResponse } from 'express';
import { createGoogleTokens } from '../../providers/google/tokens';
import type { Providers } from '../../providers';
import { FailureType } from '../../schemas/failures';
import { findDriveCredential } from '../../db/repositories/google-credentials';
import type { UserPlan } from '../../db/repositories/plans';
import { ConfigError } from '../../lib/config';
import { createSecretBox, loadEncryptionKey } from '../../lib/secrets';
import { safeFetch, UnsafeUrlError, urlGuardOptions } from '../../lib/ssrf';
import { UploadedVideoSchema, type UploadedVideo } from '../../schemas/clips';
import { IdempotencyKeyHeaderSchema } from '../../schemas/common';
import { VideoFileImportBodySchema, type VideoFileImportBody } from '../../schemas/video-file-import';
import { caller, requireScope } from '../auth';
import { providersOf, type ApiDeps } from '../deps';
import { sendIdempotent } from '../idempotency';
import { HttpProblem } from '../problem';
import { bearer, json, problems, type RouteModule } from '../route-module';
import {
  bareMediaType,
  createVideoIntake,
  fieldProblem,
  isAcceptedVideoType,
  notAVideoProblem,
  saveWithinLimit,
  sourceFileName,
  tooLargeProblem,
  TooLargeError,
  type ReceivedVideo,
} from '../video-intake';

/**
 * The download happens inside the request, like an upload: the client learns at once whether the
 * video was accepted. It is bounded by these limits (and by the plan's size limit).
 */
export const IMPORT_TIMEOUT_MS = 5 * 60_000;
/** A source that sends nothing for this long is given up on. */
const IDLE_TIMEOUT_MS = 30_000;

const DRIVE_NOT_CONNECTED = 'drive-not-connected';

/** Aborts when the import takes too long or the client goes away. */
function importSignal(res: ExpressResponse): AbortSignal {
  const clientGone = new AbortController();
  // The request stream closes once its (JSON) body is read; the response's close before it is finished means the client left.
  res.once('close', () => {
    if (!res.writableFinished) clientGone.abort(new Error('the client closed the request'));
  });
  return AbortSignal.any([AbortSignal.timeout(IMPORT_TIMEOUT_MS), clientGone.signal]);
}

const timeoutProblem = (field: string) =>
  fieldProblem(
    504,
    'source-timeout',
    'Source Timed Out',
    field,
    `the video did not arrive within ${IMPORT_TIMEOUT_MS / 1000} s; upload it instead`,
  );

/** Streams `body` into `dir` within the plan's size limit: 413 past the limit, 504 past the time limit. */
async function receive(
  body: Readable,
  dir: string,
  filename: string,
  mediaType: string,
  plan: UserPlan,
  field: string,
  signal: AbortSignal,
): Promise<ReceivedVideo> {
  const path = join(dir, sourceFileName(filename));
  try {
    await saveWithinLimit(body, path, plan.features.maxUploadBytes, signal);
  } catch (err) {
    if (err instanceof TooLargeError) throw tooLargeProblem(field, plan);
    if (signal.aborted) throw timeoutProblem(field);
    throw fieldProblem(502, 'source-failed', 'Source Failed', field, `the download broke off: ${(err as Error).message}`);
  }
  return { path, filename, mediaType };
}

/** The last path segment of a URL, decoded when it can be: the default title. */
function urlFileName(url: string): string {
  const segment = basename(new URL(url).pathname);
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** Downloads a user-supplied URL through the SSRF guard: refused addresses are 400, a failing source 422. */
async function fetchUrl(deps: ApiDeps, url: string, dir: string, plan: UserPlan, signal: AbortSignal): Promise<ReceivedVideo> {
  let res: Response;
  try {
    res = await safeFetch(url, { timeoutMs: IDLE_TIMEOUT_MS }, urlGuardOptions(deps.config));
  } catch (err) {
    if (err instanceof UnsafeUrlError) throw fieldProblem(400, 'validation', 'Validation failed', 'url', err.message);
    throw fieldProblem(422, 'source-unreachable', 'Source Unreachable', 'url', `the video could not be fetched: ${(err as Error).message}`);
  }
  const refuse = async (problem: HttpProblem): Promise<never> => {
    await res.body?.cancel().catch(() => undefined);
    throw problem;
  };
  if (!res.ok || !res.body)
    return refuse(fieldProblem(422, 'source-unreachable', 'Source Unreachable', 'url', `the server answered HTTP ${res.status}`));
  const mediaType = bareMediaType(res.headers.get('content-type'));
  if (!isAcceptedVideoType(mediaType)) return refuse(notAVideoProblem('url', mediaType));
  // A declared length over the limit is refused before a byte is read.
  if (Number(res.headers.get('content-length') ?? 0) > plan.features.maxUploadBytes) return refuse(tooLargeProblem('url', plan));
  return receive(
    Readable.fromWeb(res.body as ReadableStream<Uint8Array>),
    dir,
    urlFileName(res.url || url),
    mediaType,
    plan,
    'url',
    signal,
  );
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

  async function fetchDriveFile(userId: string, driveFileId: string, dir: string, plan: UserPlan, signal: AbortSignal) {
    try {
      const accessToken = await driveAccessToken(userId);
      const { drive } = googleDrive();
      const file = await drive.getFile({ accessToken, fileId: driveFileId });
      if (!isAcceptedVideoType(file.mimeType)) throw notAVideoProblem('driveFileId', file.mimeType);
      if ((file.size ?? 0) > plan.features.maxUploadBytes) throw tooLargeProblem('driveFileId', plan);
      const body = await drive.downloadFile({ accessToken, fileId: driveFileId, signal, timeoutMs: IMPORT_TIMEOUT_MS });
      const received = await receive(body, dir, file.name, file.mimeType, plan, 'driveFileId', signal);
      return { received, file };
    } catch (err) {
      throw driveProblem(err, driveFileId);
    }
  }

  async function importVideo(userId: string, body: VideoFileImportBody, signal: AbortSignal): Promise<UploadedVideo> {
    const plan = await intake.requirePlan(userId);
    const dir = await mkdtemp(join(tmpdir(), 'import-'));
    try {
      const common = { userId, plan, title: body.title, transcript: body.transcript };
      if (body.url !== undefined) {
        const video = await fetchUrl(deps, body.url, dir, plan, signal);
        return await intake.store({ ...common, field: 'url', video, source: { type: 'url', url: body.url } });
      }
      const driveFileId = body.driveFileId!;
      const { received, file } = await fetchDriveFile(userId, driveFileId, dir, plan, signal);
      return await intake.store({
        ...common,
        field: 'driveFileId',
        video: received,
        source: { type: 'drive', url: file.webViewLink, details: { driveFileId, driveFileName: file.name } },
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  r.post('/v1/videos/import-file', requireScope('runs:write'), async (req, res) => {
    const body = VideoFileImportBodySchema.parse(req.body ?? {});
    const { userId } = caller(res);
    const signal = importSignal(res);
    await sendIdempotent(db, req, res, userId, async () => ({ status: 201, body: await importVideo(userId, body, signal) }));
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
      'Send exactly one of `url` or `driveFileId`. The file is downloaded during the request (at most',
      `${IMPORT_TIMEOUT_MS / 1000} s, else 504) and checked like an upload: a video type, no larger than the plan allows (413,`,
      'also while streaming), a real video per ffprobe within the plan duration (422); the problem names the field.',
      '`url` must be https on a public address: private, loopback, link-local and metadata addresses are refused',
      '(400), on every redirect too. `driveFileId` reads the Google Drive connected to the account: not connected',
      'or revoked is 422 `drive-not-connected`, an unknown file 404. Honours Idempotency-Key.',
    ].join(' '),
    security: bearer(),
    request: {
      headers: IdempotencyKeyHeaderSchema,
      body: { required: true, content: { 'application/json': { schema: VideoFileImportBodySchema } } },
    },
    responses: { '201': json(UploadedVideoSchema, 'Stored'), ...problems(400, 401, 403, 404, 409, 413, 415, 422, 429, 502, 503, 504) },
  });
}

export const videoFileImportRoutes: RouteModule = { router, document };
