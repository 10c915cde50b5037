import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import busboy from 'busboy';
import { Router, type Request } from 'express';
import { findUserClip, findUserClipSourceVideo, listVideoClips, reviewClip, type ClipWithCaptions } from '../../db/repositories/clips';
import type { UserPlan } from '../../db/repositories/plans';
import {
  ClipListSchema,
  ClipsStartedSchema,
  ClipViewSchema,
  CLIPS_DEFAULTS,
  CreateClipsBodySchema,
  RejectClipBodySchema,
  UploadedVideoSchema,
  VideoUploadFormSchema,
  type ClipsInput,
  type ClipView,
} from '../../schemas/clips';
import { IdempotencyKeyHeaderSchema, UuidParamSchema } from '../../schemas/common';
import { AutoClipsSchema, type AutoClips } from '../../schemas/video-ingest';
import { clipsRun, clipsWorkflowId } from '../../workflows/clips/contract';
import { caller, requireScope } from '../auth';
import type { ApiDeps } from '../deps';
import { sendIdempotent } from '../idempotency';
import { HttpProblem, notFound } from '../problem';
import { bearer, json, problems, type RouteModule } from '../route-module';
import { runStartedBody, startRun } from '../run-starter';
import {
  bareMediaType,
  createVideoIntake,
  fieldProblem,
  isAcceptedVideoType,
  MAX_TRANSCRIPT_BYTES,
  notAVideoProblem,
  planLimitProblem,
  sourceFileName,
  tooLargeProblem,
  type ReceivedVideo,
} from '../video-intake';
import { isoOrNull } from '../dates';

/** Multipart framing and the small text fields on top of the file itself. */
const FORM_OVERHEAD_BYTES = MAX_TRANSCRIPT_BYTES + 64 * 1024;

function clipView(clip: ClipWithCaptions): ClipView {
  return {
    id: clip.id,
    videoId: clip.video_id,
    runId: clip.run_id,
    clipIndex: clip.clip_index,
    title: clip.title,
    startSeconds: clip.start_time,
    endSeconds: clip.end_time,
    durationSeconds: clip.duration_seconds,
    scores: { hook: clip.hook_score, virality: clip.virality_score, engagement: clip.engagement_score },
    topics: clip.topics,
    selectionMethod: clip.selection_method,
    transcript: clip.transcript_segment,
    fileUrls: clip.file_urls,
    thumbnailUrl: clip.thumbnail_url,
    renderStatus: clip.render_status,
    renderError: clip.render_error,
    status: clip.status,
    approvedAt: isoOrNull(clip.approved_at),
    rejectionReason: clip.rejection_reason,
    captions: clip.captions
      ? {
          language: clip.captions.language,
          style: clip.captions.style,
          srt: clip.captions.srt,
          vtt: clip.captions.vtt,
          srtUrl: clip.captions.srt_url,
          vttUrl: clip.captions.vtt_url,
        }
      : null,
    createdAt: clip.created_at.toISOString(),
  };
}

interface ReceivedUpload {
  file?: ReceivedVideo;
  fields: Record<string, string>;
}

/**
 * Streams a multipart upload to `dir`: at most one `file` (a video type or a generic binary
 * type, no larger than the plan allows) and small text fields. Validation problems are raised
 * once the body has been read, so the client always gets the answer.
 */
function receiveUpload(req: Request, dir: string, plan: UserPlan): Promise<ReceivedUpload> {
  const maxFileBytes = plan.features.maxUploadBytes;
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: req.headers, limits: { files: 1, fileSize: maxFileBytes, fields: 10, fieldSize: MAX_TRANSCRIPT_BYTES } });
    } catch (err) {
      reject(fieldProblem(400, 'validation', 'Validation failed', 'file', `malformed multipart body: ${(err as Error).message}`));
      return;
    }
    const received: ReceivedUpload = { fields: {} };
    let problem: HttpProblem | undefined;
    const writes: Array<Promise<unknown>> = [];
    parser.on('file', (name, stream, info) => {
      const mediaType = bareMediaType(info.mimeType);
      if (name !== 'file') {
        problem ??= fieldProblem(400, 'validation', 'Validation failed', name, 'unexpected file field: send the video as `file`');
        stream.resume();
        return;
      }
      if (!isAcceptedVideoType(mediaType)) {
        problem ??= notAVideoProblem('file', mediaType);
        stream.resume();
        return;
      }
      const filename = info.filename ?? 'upload';
      const path = join(dir, sourceFileName(filename));
      stream.on('limit', () => (problem ??= tooLargeProblem('file', plan)));
      const out = createWriteStream(path);
      stream.pipe(out);
      writes.push(finished(out));
      received.file = { path, filename, mediaType };
    });
    parser.on('field', (name, value, info) => {
      if (info.valueTruncated)
        problem ??= fieldProblem(413, 'field-too-large', 'Field Too Large', name, `at most ${MAX_TRANSCRIPT_BYTES} bytes`);
      received.fields[name] = value;
    });
    parser.on('filesLimit', () => (problem ??= fieldProblem(400, 'validation', 'Validation failed', 'file', 'send one video per upload')));
    parser.on('error', (err: Error) =>
      reject(fieldProblem(400, 'validation', 'Validation failed', 'file', `malformed multipart body: ${err.message}`)),
    );
    parser.on('close', () => {
      Promise.all(writes).then(() => (problem ? reject(problem) : resolve(received)), reject);
    });
    req.pipe(parser);
  });
}

/** The multipart `autoClips` field: JSON text of AutoClips; 400 naming the field when it is not. */
function autoClipsField(text: string | undefined): AutoClips | undefined {
  if (text === undefined || !text.trim()) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw fieldProblem(400, 'validation', 'Validation failed', 'autoClips', 'must be JSON, e.g. {"count":3}');
  }
  const parsed = AutoClipsSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw fieldProblem(400, 'validation', 'Validation failed', ['autoClips', ...issue.path].join('.'), issue.message);
  }
  return parsed.data;
}

/** POST /v1/videos/upload: multipart, so it is mounted before the JSON-only body check. */
function uploadRouter(deps: ApiDeps): Router {
  const r = Router();
  const intake = createVideoIntake(deps);

  r.post('/v1/videos/upload', requireScope('runs:write'), async (req, res) => {
    if (!req.is('multipart/form-data')) {
      throw new HttpProblem(
        415,
        'unsupported-media-type',
        'Unsupported Media Type',
        'send the video as multipart/form-data with a `file` field',
      );
    }
    const { userId } = caller(res);
    const plan = await intake.requirePlan(userId);
    // A declared length far over the limit is refused before a byte is read.
    if (Number(req.headers['content-length'] ?? 0) > plan.features.maxUploadBytes + FORM_OVERHEAD_BYTES)
      throw tooLargeProblem('file', plan);
    const dir = await mkdtemp(join(tmpdir(), 'upload-'));
    try {
      const upload = await receiveUpload(req, dir, plan);
      if (!upload.file) throw fieldProblem(400, 'validation', 'Validation failed', 'file', 'required: the video file');
      const body = await intake.storeUpload({
        userId,
        plan,
        field: 'file',
        video: upload.file,
        title: upload.fields.title,
        transcript: upload.fields.transcript,
        autoClips: autoClipsField(upload.fields.autoClips),
      });
      res.status(201).json(body);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
  return r;
}

function router(deps: ApiDeps): Router {
  const r = Router();
  const { db } = deps;
  const intake = createVideoIntake(deps);

  r.post('/v1/videos/:id/clips', requireScope('runs:write'), async (req, res) => {
    const { id } = UuidParamSchema.parse(req.params);
    const body = CreateClipsBodySchema.parse(req.body ?? {});
    const { userId } = caller(res);
    const video = await findUserClipSourceVideo(db, userId, id);
    if (!video) throw notFound('video');
    const hasTranscript = Array.isArray(video.transcript_segments) && video.transcript_segments.length > 0;
    if (video.has_audio === false && !hasTranscript) {
      throw fieldProblem(
        422,
        'no-audio',
        'Video Has No Audio',
        'id',
        'the video has no audio track, so there is no speech to pick moments from or caption; upload a transcript with it',
      );
    }
    if (video.processing_status === 'failed') {
      throw fieldProblem(422, 'video-failed', 'Video Ingest Failed', 'id', 'the video could not be ingested; import it again');
    }
    const plan = await intake.requirePlan(userId);
    const count = body.count ?? Math.min(CLIPS_DEFAULTS.count, plan.features.clipsPerVideo);
    if (count > plan.features.clipsPerVideo) {
      throw planLimitProblem('count', `your ${plan.slug} plan allows ${plan.features.clipsPerVideo} clips per video`, plan.slug);
    }
    if (video.duration_seconds !== null && video.duration_seconds > plan.features.maxVideoDurationSeconds) {
      throw planLimitProblem(
        'id',
        `the video lasts ${video.duration_seconds} s; your ${plan.slug} plan allows clips from videos up to ${plan.features.maxVideoDurationSeconds} s`,
        plan.slug,
      );
    }

    await sendIdempotent(db, req, res, userId, async () => {
      const input: ClipsInput = {
        videoId: id,
        userId,
        count,
        aspectRatios: body.aspectRatios ?? CLIPS_DEFAULTS.aspectRatios,
        captionStyle: body.captions === undefined ? 'bold' : (body.captions?.style ?? null),
        minSeconds: body.minSeconds ?? CLIPS_DEFAULTS.minSeconds,
        maxSeconds: body.maxSeconds ?? CLIPS_DEFAULTS.maxSeconds,
        mediaTaskQueue: deps.taskQueues.media,
      };
      const { runId } = await startRun(deps, clipsRun, {
        workflowId: clipsWorkflowId(id, randomUUID()),
        args: [input],
        input: {
          videoId: id,
          count,
          aspectRatios: input.aspectRatios,
          captionStyle: input.captionStyle,
          minSeconds: input.minSeconds,
          maxSeconds: input.maxSeconds,
        },
      });
      return { status: 202, body: { ...runStartedBody(runId), videoId: id } };
    });
  });

  r.get('/v1/videos/:id/clips', requireScope('runs:read'), async (req, res) => {
    const { id } = UuidParamSchema.parse(req.params);
    const { userId } = caller(res);
    if (!(await findUserClipSourceVideo(db, userId, id))) throw notFound('video');
    res.json({ data: (await listVideoClips(db, userId, id)).map(clipView) });
  });

  r.get('/v1/clips/:id', requireScope('runs:read'), async (req, res) => {
    const { id } = UuidParamSchema.parse(req.params);
    const clip = await findUserClip(db, caller(res).userId, id);
    if (!clip) throw notFound('clip');
    res.json(clipView(clip));
  });

  const reviewable = async (res: Parameters<typeof caller>[0], clipId: string) => {
    const { userId } = caller(res);
    const clip = await findUserClip(db, userId, clipId);
    if (!clip) throw notFound('clip');
    if (clip.status === 'published')
      throw new HttpProblem(409, 'clip-published', 'Clip Already Published', 'a published clip can no longer be reviewed');
    return { clip, userId };
  };

  r.post('/v1/clips/:id/approve', requireScope('runs:write'), async (req, res) => {
    const { id } = UuidParamSchema.parse(req.params);
    const { clip, userId } = await reviewable(res, id);
    if (clip.render_status !== 'completed')
      throw new HttpProblem(
        409,
        'clip-not-rendered',
        'Clip Not Rendered',
        `the clip is ${clip.render_status}; only a rendered clip can be approved`,
      );
    await reviewClip(db, clip.id, { decision: 'approved', reviewerId: userId });
    res.json(clipView((await findUserClip(db, userId, clip.id))!));
  });

  r.post('/v1/clips/:id/reject', requireScope('runs:write'), async (req, res) => {
    const { id } = UuidParamSchema.parse(req.params);
    const body = RejectClipBodySchema.parse(req.body ?? {});
    const { clip, userId } = await reviewable(res, id);
    await reviewClip(db, clip.id, { decision: 'rejected', reason: body.reason ?? null });
    res.json(clipView((await findUserClip(db, userId, clip.id))!));
  });

  return r;
}

function documentUpload(registry: OpenAPIRegistry): void {
  registry.registerPath({
    method: 'post',
    path: '/v1/videos/upload',
    tags: ['Videos'],
    summary: 'Upload a video file (and its SRT/WebVTT transcript) as a source for clips',
    description:
      "multipart/form-data. The file must be a video (checked with ffprobe), no larger and no longer than the plan allows (413 / 422 naming the field), within the plan's monthly videos (402); nothing is kept when a check fails. The bytes are stored during the request; the `ingest:<videoId>` run (`runId`) then finishes the video (pending → processing → analyzing → ready, key moments, the video slot committed with its processing minutes; refunded if it fails) and, with `autoClips` (JSON text), starts a clips run. The transcript's timings are what clips are cut and captioned by.",
    security: bearer(),
    request: { body: { required: true, content: { 'multipart/form-data': { schema: VideoUploadFormSchema } } } },
    responses: { '201': json(UploadedVideoSchema, 'Stored; its ingest run started'), ...problems(400, 401, 402, 403, 413, 415, 422, 429) },
  });
}

function document(registry: OpenAPIRegistry): void {
  registry.registerPath({
    method: 'post',
    path: '/v1/videos/{id}/clips',
    tags: ['Jobs'],
    summary: 'Make short clips of a video: AI-picked moments, one file per aspect ratio, burned captions',
    description:
      "Runs `clips:<videoId>:<requestId>`: checks the transcript and media, lets the AI pick moments (validated against the real duration and the requested lengths, snapped to word boundaries), then renders each clip on the media queue. The plan's clips_per_video and max_video_duration apply at request time (422). A video without a timed transcript fails with TranscriptUnavailable.",
    security: bearer(),
    request: {
      params: UuidParamSchema,
      headers: IdempotencyKeyHeaderSchema,
      body: { required: false, content: { 'application/json': { schema: CreateClipsBodySchema } } },
    },
    responses: { '202': json(ClipsStartedSchema, 'Clips run started'), ...problems(400, 401, 403, 404, 413, 415, 422, 429) },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/videos/{id}/clips',
    tags: ['Clips'],
    summary: "The video's clips with scores, files per ratio and caption files",
    security: bearer(),
    request: { params: UuidParamSchema },
    responses: { '200': json(ClipListSchema, 'Clips, newest request first'), ...problems(400, 401, 403, 404, 429) },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/clips/{id}',
    tags: ['Clips'],
    summary: 'One clip',
    security: bearer(),
    request: { params: UuidParamSchema },
    responses: { '200': json(ClipViewSchema, 'The clip'), ...problems(400, 401, 403, 404, 429) },
  });
  registry.registerPath({
    method: 'post',
    path: '/v1/clips/{id}/approve',
    tags: ['Clips'],
    summary: 'Approve a rendered clip for posting',
    security: bearer(),
    request: { params: UuidParamSchema },
    responses: { '200': json(ClipViewSchema, 'Approved'), ...problems(400, 401, 403, 404, 409, 429) },
  });
  registry.registerPath({
    method: 'post',
    path: '/v1/clips/{id}/reject',
    tags: ['Clips'],
    summary: 'Reject a clip, optionally with a reason',
    security: bearer(),
    request: { params: UuidParamSchema, body: { required: false, content: { 'application/json': { schema: RejectClipBodySchema } } } },
    responses: { '200': json(ClipViewSchema, 'Rejected'), ...problems(400, 401, 403, 404, 409, 413, 415, 429) },
  });
}

export const clipRoutes: RouteModule = { router, document };
/** Mounted before the JSON-only body check (see MULTIPART_ROUTE_MODULES in api/app.ts). */
export const videoUploadRoutes: RouteModule = { router: uploadRouter, document: documentUpload };
