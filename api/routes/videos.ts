import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { Router } from 'express';
import { listContentTypes } from '../../db/repositories/content';
import { findDriveCredential, hasActiveYoutubeToken } from '../../db/repositories/google-credentials';
import { getPlanForUser, type UserPlan } from '../../db/repositories/plans';
import {
  abandonImportVideo,
  findUserVideo,
  listContentVersions,
  listVideoContent,
  openImportVideo,
  VideoQuotaExceededError,
  type VideoContentWithType,
} from '../../db/repositories/video-import';
import { findActiveAutoExport } from '../../db/repositories/user-preferences';
import type { Video } from '../../db/types';
import { NOT_OWNED_TRANSCRIPT_HINT } from '../../providers/youtube/transcript-source';
import { parseYouTubeVideoId } from '../youtube-url';
import { IdempotencyKeyHeaderSchema } from '../../schemas/common';
import {
  RegenerateContentBodySchema,
  RegenerateStartedSchema,
  VideoContentParamSchema,
  VideoContentQuerySchema,
  VideoContentViewSchema,
  VideoIdParamSchema,
  VideoImportBodySchema,
  VideoImportStartedSchema,
  VideoViewSchema,
  type GenerateContentInput,
  type VideoContentView,
  type VideoImportInput,
  type VideoView,
} from '../../schemas/video-import';
import {
  contentRegenerateRun,
  contentRegenerateWorkflowId,
  videoImportRun,
  videoImportWorkflowId,
} from '../../workflows/video-import/contract';
import { videoIngestWorkflowId } from '../../workflows/video-ingest/contract';
import { caller, requireScope } from '../auth';
import type { ApiDeps } from '../deps';
import { sendIdempotent } from '../idempotency';
import { HttpProblem, notFound } from '../problem';
import { bearer, json, problems, type RouteModule } from '../route-module';
import { runStartedBody, startRun } from '../run-starter';
import { isoOrNull } from '../dates';

const validationProblem = (field: string, message: string) =>
  new HttpProblem(400, 'validation', 'Validation failed', `${field}: ${message}`, { errors: [{ field, message }] });

const quotaProblem = (message: string) => new HttpProblem(402, 'quota-exceeded', 'Video Quota Exceeded', message);

function contentTypeNotAllowed(plan: UserPlan, keys: string[]): HttpProblem {
  return new HttpProblem(
    403,
    'content-type-not-allowed',
    'Content Type Not In Plan',
    `your ${plan.slug} plan does not include: ${keys.join(', ')}`,
    {
      plan: plan.slug,
      disallowedContentTypes: keys,
    },
  );
}

/** Words of the timed transcript: the cues' word timings where given, else the words of their text. */
function transcriptWordCount(segments: unknown): number {
  if (!Array.isArray(segments)) return 0;
  return (segments as Array<{ text?: unknown; words?: unknown }>).reduce(
    (n, s) => n + (Array.isArray(s.words) ? s.words.length : typeof s.text === 'string' ? s.text.split(/\s+/).filter(Boolean).length : 0),
    0,
  );
}

function videoView(video: Video, content: VideoContentWithType[]): VideoView {
  const latest = new Map<string, { row: VideoContentWithType; versions: number }>();
  for (const row of content) {
    const seen = latest.get(row.content_type_key);
    if (seen) seen.versions += 1;
    else latest.set(row.content_type_key, { row, versions: 1 });
  }
  return {
    id: video.id,
    sourceUrl: video.source_url,
    youtubeVideoId: video.youtube_video_id,
    title: video.title,
    description: video.description,
    channel: { id: video.channel_id, title: video.channel_title },
    durationSeconds: video.duration_seconds,
    stats: { views: video.view_count, likes: video.like_count, comments: video.comment_count },
    tags: video.tags,
    thumbnailUrl: video.thumbnail_url,
    publishedAt: isoOrNull(video.published_at),
    transcriptSource: video.transcript_source,
    transcriptWords: transcriptWordCount(video.transcript_segments),
    language: video.language_detected ?? video.language,
    hasAudio: video.has_audio,
    processingStatus: video.processing_status,
    progress: video.progress,
    error: video.error_message,
    // Uploads stored before ingest runs existed (status `completed`) have no run.
    runId:
      video.source_type === 'youtube'
        ? videoImportWorkflowId(video.id)
        : video.processing_status === 'completed'
          ? null
          : videoIngestWorkflowId(video.id),
    content: [...latest.values()].map(({ row, versions }) => ({
      id: row.id,
      contentType: row.content_type_key,
      name: row.content_type_name,
      version: row.version,
      versions,
      createdAt: row.created_at.toISOString(),
    })),
    createdAt: video.created_at.toISOString(),
  };
}

function contentView(row: VideoContentWithType, versions: number[]): VideoContentView {
  return {
    id: row.id,
    videoId: row.video_id,
    contentType: row.content_type_key,
    version: row.version,
    versions,
    parentContentId: row.parent_content_id,
    content: row.content,
    instructions: row.instructions,
    aiProvider: row.ai_provider,
    model: row.model,
    tokensUsed: row.tokens_used,
    generationDurationMs: row.generation_duration_ms,
    runId: row.run_id,
    createdAt: row.created_at.toISOString(),
  };
}

function router(deps: ApiDeps): Router {
  const r = Router();
  const { db } = deps;

  const planOf = async (userId: string): Promise<UserPlan> => {
    const plan = await getPlanForUser(db, userId);
    if (!plan) throw notFound('user');
    return plan;
  };

  const ownVideo = async (userId: string, videoId: string): Promise<Video> => {
    const video = await findUserVideo(db, userId, videoId);
    if (!video) throw notFound('video');
    return video;
  };

  /** Unknown keys are a bad request; known keys outside the plan are forbidden. */
  const checkContentTypes = async (plan: UserPlan, keys: string[], field: string) => {
    const known = new Set((await listContentTypes(db)).map((t) => t.key));
    const unknown = keys.filter((k) => !known.has(k));
    if (unknown.length > 0) throw validationProblem(field, `unknown content type(s): ${unknown.join(', ')}`);
    const disallowed = keys.filter((k) => !plan.features.allowedContentTypes.includes(k));
    if (disallowed.length > 0) throw contentTypeNotAllowed(plan, disallowed);
  };

  r.post('/v1/videos/import', requireScope('runs:write'), async (req, res) => {
    const body = VideoImportBodySchema.parse(req.body ?? {});
    // Only the parsed id is ever used (we call the YouTube API, never the URL), so this strict
    // parse is also the SSRF guard: other hosts, IP literals, ports and schemes are refused.
    const youtubeVideoId = parseYouTubeVideoId(body.url);
    if (!youtubeVideoId)
      throw validationProblem(
        'url',
        'not a YouTube video URL (youtube.com/watch?v=…, youtu.be/…, /shorts/…, /embed/…, /live/… with an 11-character id)',
      );
    const { userId } = caller(res);
    const plan = await planOf(userId);
    if (body.contentTypes) await checkContentTypes(plan, body.contentTypes, 'contentTypes');
    if (body.export) {
      const drive = await findDriveCredential(db, userId);
      if (drive?.status !== 'active') {
        throw new HttpProblem(
          422,
          'export-not-connected',
          'Export Target Not Connected',
          'export.provider: connect Google Drive before requesting an export',
          {
            errors: [
              {
                field: 'export.provider',
                message: drive ? `the Google Drive connection is ${drive.status}` : 'Google Drive is not connected',
              },
            ],
          },
        );
      }
    }
    // Captions are served to the channel's owner only: without any connected channel and without a
    // transcript the run could only fail. (A connected channel that does not own it is found out in the run.)
    if (!body.transcript && !(await hasActiveYoutubeToken(db, userId))) {
      throw new HttpProblem(422, 'transcript-required', 'Transcript Required', `transcript: ${NOT_OWNED_TRANSCRIPT_HINT}`, {
        errors: [{ field: 'transcript', message: `YouTube serves captions to the channel owner only: ${NOT_OWNED_TRANSCRIPT_HINT}` }],
      });
    }
    const autoExport = body.export ? undefined : await findActiveAutoExport(db, userId);
    const exportRequest = body.export ?? autoExport;

    await sendIdempotent(db, req, res, userId, async () => {
      const opening = await openImportVideo(db, { userId, youtubeVideoId, sourceUrl: body.url, suppliedTranscript: body.transcript }).catch(
        (err: unknown) => {
          throw err instanceof VideoQuotaExceededError ? quotaProblem(err.message) : err;
        },
      );
      if (opening.outcome === 'already-imported') {
        throw new HttpProblem(
          409,
          'video-already-imported',
          'Video Already Imported',
          'this video was imported already; regenerate its content instead',
          { videoId: opening.video.id },
        );
      }
      const { video } = opening;

      const input: VideoImportInput = {
        videoId: video.id,
        userId,
        contentTypes: body.contentTypes ?? [],
        ...(exportRequest ? { export: exportRequest } : {}),
        // The slot reserved above is the import's one: the run adopts it.
        quotaReserved: true,
      };
      try {
        const { runId } = await startRun(deps, videoImportRun, {
          workflowId: videoImportWorkflowId(video.id),
          args: [input],
          input: {
            url: body.url,
            contentTypes: body.contentTypes ?? null,
            export: exportRequest ?? null,
            ...(autoExport ? { autoExport: true } : {}),
          },
        });
        return { status: 202, body: { ...runStartedBody(runId), videoId: video.id } };
      } catch (err) {
        // No run owns the slot: give it back, and drop a row this request created.
        await abandonImportVideo(db, opening);
        throw err;
      }
    });
  });

  r.get('/v1/videos/:id', requireScope('runs:read'), async (req, res) => {
    const { id } = VideoIdParamSchema.parse(req.params);
    const video = await ownVideo(caller(res).userId, id);
    res.json(videoView(video, await listVideoContent(db, video.id)));
  });

  r.get('/v1/videos/:id/content/:typeKey', requireScope('runs:read'), async (req, res) => {
    const { id, typeKey } = VideoContentParamSchema.parse(req.params);
    const { version } = VideoContentQuerySchema.parse(req.query);
    const video = await ownVideo(caller(res).userId, id);
    const versions = await listContentVersions(db, video.id, typeKey);
    const row = version === undefined ? versions[0] : versions.find((v) => v.version === version);
    if (!row) throw notFound(version === undefined ? `${typeKey} content` : `${typeKey} content version ${version}`);
    res.json(contentView(row, versions.map((v) => v.version).reverse()));
  });

  r.post('/v1/videos/:id/content/:typeKey/regenerate', requireScope('runs:write'), async (req, res) => {
    const { id, typeKey } = VideoContentParamSchema.parse(req.params);
    const body = RegenerateContentBodySchema.parse(req.body ?? {});
    const { userId } = caller(res);
    const video = await ownVideo(userId, id);
    await checkContentTypes(await planOf(userId), [typeKey], 'typeKey');
    if (!video.transcript)
      throw new HttpProblem(409, 'video-not-ready', 'Video Not Ready', 'the video has no transcript yet; wait for its import to finish');

    await sendIdempotent(db, req, res, userId, async () => {
      const [latest] = await listContentVersions(db, video.id, typeKey);
      const version = (latest?.version ?? 0) + 1;
      const input: GenerateContentInput = {
        videoId: video.id,
        userId,
        contentType: typeKey,
        version,
        parentContentId: latest?.id ?? null,
        ...(body.instructions ? { instructions: body.instructions } : {}),
      };
      const { runId } = await startRun(deps, contentRegenerateRun, {
        workflowId: contentRegenerateWorkflowId(video.id, typeKey, version),
        args: [input],
        input: { contentType: typeKey, version, instructions: body.instructions ?? null },
      });
      return { status: 202, body: { ...runStartedBody(runId), videoId: video.id, contentType: typeKey, version } };
    });
  });

  return r;
}

function document(registry: OpenAPIRegistry): void {
  registry.registerPath({
    method: 'post',
    path: '/v1/videos/import',
    tags: ['Jobs'],
    summary: 'Import a YouTube video and generate AI content from its transcript',
    description:
      'Reserves one video of the plan quota (402 when none is left), then runs `video-import:<videoId>`: metadata, transcript, one generation per content type in parallel, optional Google Drive export. Content types outside the plan are refused with 403.',
    security: bearer(),
    request: {
      headers: IdempotencyKeyHeaderSchema,
      body: { required: true, content: { 'application/json': { schema: VideoImportBodySchema } } },
    },
    responses: {
      '202': json(VideoImportStartedSchema, 'Import started (or the running import of the same video)'),
      ...problems(400, 401, 402, 403, 409, 413, 415, 422, 429),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/videos/{id}',
    tags: ['Videos'],
    summary: 'An imported video: metadata, processing status and the latest version of each content type',
    security: bearer(),
    request: { params: VideoIdParamSchema },
    responses: { '200': json(VideoViewSchema, 'The video'), ...problems(400, 401, 403, 404, 429) },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/videos/{id}/content/{typeKey}',
    tags: ['Videos'],
    summary: 'One content type of a video: the latest version, or `?version=n`',
    security: bearer(),
    request: { params: VideoContentParamSchema, query: VideoContentQuerySchema },
    responses: { '200': json(VideoContentViewSchema, 'The content version'), ...problems(400, 401, 403, 404, 429) },
  });
  registry.registerPath({
    method: 'post',
    path: '/v1/videos/{id}/content/{typeKey}/regenerate',
    tags: ['Videos'],
    summary: 'Generate the next version of one content type (the current latest becomes its parent)',
    security: bearer(),
    request: {
      params: VideoContentParamSchema,
      headers: IdempotencyKeyHeaderSchema,
      body: { required: false, content: { 'application/json': { schema: RegenerateContentBodySchema } } },
    },
    responses: { '202': json(RegenerateStartedSchema, 'Regeneration started'), ...problems(400, 401, 403, 404, 409, 413, 415, 422, 429) },
  });
}

export const videoRoutes: RouteModule = { router, document };
