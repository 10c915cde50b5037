import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { finished } from 'node:stream/promises';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import busboy from 'busboy';
import { Router, type Request } from 'express';
import { providerCall } from '../../activities/providers/call';
import { CloudinaryAdapter, parseCloudinaryUrl } from '../../activities/providers/cloudinary';
import { ProviderLimits } from '../../activities/providers/rate-limit';
import {
  findUserClip,
  findUserClipSourceVideo,
  insertUploadedVideo,
  listVideoClips,
  reviewClip,
  type ClipWithCaptions,
} from '../../db/repositories/clips';
import { getPlanForUser, type UserPlan } from '../../db/repositories/plans';
import type { TranscriptSource } from '../../db/types';
import { createMediaToolkit, InvalidMediaError, type MediaInfo, type MediaToolkit } from '../../lib/media';
import { mediaStoreFor, type MediaStore } from '../../lib/media-store';
import { parseTranscript, type ParsedTranscript } from '../../lib/transcript';
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
  type UploadedVideo,
} from '../../schemas/clips';
import { IdempotencyKeyHeaderSchema, UuidParamSchema } from '../../schemas/common';
import { CLIPS_JOB_TYPE, CLIPS_WORKFLOW_TYPE, clipsWorkflowId } from '../../workflows/clips/contract';
import { caller, requireScope } from '../auth';
import type { ApiDeps } from '../deps';
import { sendIdempotent } from '../idempotency';
import { HttpProblem, notFound } from '../problem';
import { bearer, json, problems, type RouteModule } from '../route-module';
import { runStartedBody, startRun } from '../run-starter';

/** SRT/WebVTT text of a long talk stays well below this. */
const MAX_TRANSCRIPT_BYTES = 5 * 1024 * 1024;
/** Multipart framing and the small text fields on top of the file itself. */
const FORM_OVERHEAD_BYTES = MAX_TRANSCRIPT_BYTES + 64 * 1024;
const VIDEO_EXTENSIONS = new Set(['.mp4', '.m4v', '.mov', '.webm', '.mkv', '.avi', '.mpg', '.mpeg', '.ts']);
/** Browsers and curl send these for a video whose type they cannot name; ffprobe decides then. */
const GENERIC_TYPES = new Set(['application/octet-stream', 'binary/octet-stream']);

const fieldProblem = (status: number, slug: string, title: string, field: string, message: string, extra: Record<string, unknown> = {}) =>
  new HttpProblem(status, slug, title, `${field}: ${message}`, { errors: [{ field, message }], ...extra });

const planLimitProblem = (field: string, message: string, plan: string) => fieldProblem(422, 'plan-limit', 'Plan Limit Exceeded', field, message, { plan });

const iso = (d: Date | null) => (d ? d.toISOString() : null);

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
    transcript: clip.transcript_segment,
    fileUrls: clip.file_urls,
    thumbnailUrl: clip.thumbnail_url,
    renderStatus: clip.render_status,
    renderError: clip.render_error,
    status: clip.status,
    approvedAt: iso(clip.approved_at),
    rejectionReason: clip.rejection_reason,
    captions: clip.captions
      ? { language: clip.captions.language, style: clip.captions.style, srt: clip.captions.srt, vtt: clip.captions.vtt, srtUrl: clip.captions.srt_url, vttUrl: clip.captions.vtt_url }
      : null,
    createdAt: clip.created_at.toISOString(),
  };
}

interface ReceivedUpload {
  file?: { path: string; filename: string; mimeType: string };
  fields: Record<string, string>;
}

/**
 * Streams a multipart upload to `dir`: at most one `file` (a video type or a generic binary
 * type, no larger than the plan allows) and small text fields. Validation problems are raised
 * once the body has been read, so the client always gets the answer.
 */
function receiveUpload(req: Request, dir: string, maxFileBytes: number, plan: string): Promise<ReceivedUpload> {
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
      const mimeType = info.mimeType.toLowerCase();
      if (name !== 'file') {
        problem ??= fieldProblem(400, 'validation', 'Validation failed', name, 'unexpected file field: send the video as `file`');
        stream.resume();
        return;
      }
      if (!mimeType.startsWith('video/') && !GENERIC_TYPES.has(mimeType)) {
        problem ??= fieldProblem(422, 'invalid-media', 'Not A Video', 'file', `must be a video file, got ${mimeType}`);
        stream.resume();
        return;
      }
      const extension = extname(info.filename ?? '').toLowerCase();
      const path = join(dir, `upload${VIDEO_EXTENSIONS.has(extension) ? extension : '.video'}`);
      stream.on('limit', () => {
        problem ??= fieldProblem(413, 'upload-too-large', 'Upload Too Large', 'file', `your ${plan} plan accepts videos up to ${maxFileBytes} bytes`, { limit: maxFileBytes, plan });
      });
      const out = createWriteStream(path);
      stream.pipe(out);
      writes.push(finished(out));
      received.file = { path, filename: info.filename ?? 'upload', mimeType };
    });
    parser.on('field', (name, value, info) => {
      if (info.valueTruncated) problem ??= fieldProblem(413, 'field-too-large', 'Field Too Large', name, `at most ${MAX_TRANSCRIPT_BYTES} bytes`);
      received.fields[name] = value;
    });
    parser.on('filesLimit', () => (problem ??= fieldProblem(400, 'validation', 'Validation failed', 'file', 'send one video per upload')));
    parser.on('error', (err: Error) => reject(fieldProblem(400, 'validation', 'Validation failed', 'file', `malformed multipart body: ${err.message}`)));
    parser.on('close', () => {
      Promise.all(writes).then(() => (problem ? reject(problem) : resolve(received)), reject);
    });
    req.pipe(parser);
  });
}

function transcriptSource(parsed: ParsedTranscript, text: string): TranscriptSource {
  if (parsed.segments.length === 0) return 'manual';
  return /^\uFEFF?WEBVTT/.test(text) ? 'uploaded_vtt' : 'uploaded_srt';
}

async function requirePlan(deps: ApiDeps, userId: string): Promise<UserPlan> {
  const plan = await getPlanForUser(deps.db, userId);
  if (!plan) throw notFound('user');
  return plan;
}

/** POST /v1/videos/upload: multipart, so it is mounted before the JSON-only body check. */
function uploadRouter(deps: ApiDeps): Router {
  const r = Router();
  const { db, config } = deps;
  let media: MediaToolkit | undefined;
  let store: MediaStore | undefined;
  const toolkit = () => (media ??= createMediaToolkit({ logger: deps.logger.child({ component: 'media' }) }));
  const mediaStore = () =>
    (store ??= mediaStoreFor(config, () => {
      const call = providerCall(new ProviderLimits({}).for('cloudinary'));
      return new CloudinaryAdapter(parseCloudinaryUrl(config.CLOUDINARY_URL ?? ''), call);
    }));

  r.post('/v1/videos/upload', requireScope('runs:write'), async (req, res) => {
    if (!req.is('multipart/form-data')) {
      throw new HttpProblem(415, 'unsupported-media-type', 'Unsupported Media Type', 'send the video as multipart/form-data with a `file` field');
    }
    const { userId } = caller(res);
    const plan = await requirePlan(deps, userId);
    const { maxUploadBytes, maxVideoDurationSeconds } = plan.features;
    // A declared length far over the limit is refused before a byte is read.
    if (Number(req.headers['content-length'] ?? 0) > maxUploadBytes + FORM_OVERHEAD_BYTES) {
      throw fieldProblem(413, 'upload-too-large', 'Upload Too Large', 'file', `your ${plan.slug} plan accepts videos up to ${maxUploadBytes} bytes`, { limit: maxUploadBytes, plan: plan.slug });
    }
    const dir = await mkdtemp(join(tmpdir(), 'upload-'));
    try {
      const upload = await receiveUpload(req, dir, maxUploadBytes, plan.slug);
      if (!upload.file) throw fieldProblem(400, 'validation', 'Validation failed', 'file', 'required: the video file');
      const title = upload.fields.title?.trim().slice(0, 500) || upload.file.filename.replace(/\.[^.]+$/, '').slice(0, 500) || null;

      let info: MediaInfo;
      try {
        info = await toolkit().probe(upload.file.path);
      } catch (err) {
        if (err instanceof InvalidMediaError) throw fieldProblem(422, 'invalid-media', 'Not A Video', 'file', err.message);
        throw err;
      }
      if (!info.hasVideo) throw fieldProblem(422, 'invalid-media', 'Not A Video', 'file', 'the file has no video stream');
      if (info.durationSeconds > maxVideoDurationSeconds) {
        throw planLimitProblem('file', `the video lasts ${Math.round(info.durationSeconds)} s; your ${plan.slug} plan allows up to ${maxVideoDurationSeconds} s`, plan.slug);
      }

      let transcript: { text: string; source: TranscriptSource; segments: unknown[] } | null = null;
      const transcriptText = upload.fields.transcript?.trim();
      if (transcriptText) {
        let parsed: ParsedTranscript;
        try {
          parsed = parseTranscript(transcriptText);
        } catch (err) {
          throw fieldProblem(400, 'validation', 'Validation failed', 'transcript', (err as Error).message);
        }
        if (!parsed.text) throw fieldProblem(400, 'validation', 'Validation failed', 'transcript', 'no text found in the SRT/WebVTT');
        transcript = { text: parsed.text, source: transcriptSource(parsed, transcriptText), segments: parsed.segments };
      }

      const videoId = randomUUID();
      const stored = await mediaStore().put(`videos/${videoId}/source${extname(upload.file.path)}`, upload.file.path, 'video');
      const mimeType = upload.file.mimeType.startsWith('video/') ? upload.file.mimeType : 'application/octet-stream';
      await insertUploadedVideo(db, {
        id: videoId,
        userId,
        title,
        durationSeconds: info.durationSeconds,
        width: info.width,
        height: info.height,
        sizeBytes: info.sizeBytes,
        mimeType,
        filePath: stored.path,
        mediaUrl: stored.url,
        transcript,
      });
      const body: UploadedVideo = {
        videoId,
        title,
        durationSeconds: info.durationSeconds,
        width: info.width,
        height: info.height,
        hasAudio: info.hasAudio,
        sizeBytes: info.sizeBytes,
        mimeType,
        transcript: transcript ? { source: transcript.source, segments: transcript.segments.length } : null,
      };
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

  r.post('/v1/videos/:id/clips', requireScope('runs:write'), async (req, res) => {
    const { id } = UuidParamSchema.parse(req.params);
    const body = CreateClipsBodySchema.parse(req.body ?? {});
    const { userId } = caller(res);
    const video = await findUserClipSourceVideo(db, userId, id);
    if (!video) throw notFound('video');
    const plan = await requirePlan(deps, userId);
    const count = body.count ?? Math.min(CLIPS_DEFAULTS.count, plan.features.clipsPerVideo);
    if (count > plan.features.clipsPerVideo) {
      throw planLimitProblem('count', `your ${plan.slug} plan allows ${plan.features.clipsPerVideo} clips per video`, plan.slug);
    }
    if (video.duration_seconds !== null && video.duration_seconds > plan.features.maxVideoDurationSeconds) {
      throw planLimitProblem('id', `the video lasts ${video.duration_seconds} s; your ${plan.slug} plan allows clips from videos up to ${plan.features.maxVideoDurationSeconds} s`, plan.slug);
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
      const { runId } = await startRun(deps, {
        workflowType: CLIPS_WORKFLOW_TYPE,
        workflowId: clipsWorkflowId(id, randomUUID()),
        jobType: CLIPS_JOB_TYPE,
        taskQueue: deps.taskQueues.main,
        args: [input],
        userId,
        domainId: id,
        videoId: id,
        input: { videoId: id, count, aspectRatios: input.aspectRatios, captionStyle: input.captionStyle, minSeconds: input.minSeconds, maxSeconds: input.maxSeconds },
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
    if (clip.status === 'published') throw new HttpProblem(409, 'clip-published', 'Clip Already Published', 'a published clip can no longer be reviewed');
    return { clip, userId };
  };

  r.post('/v1/clips/:id/approve', requireScope('runs:write'), async (req, res) => {
    const { id } = UuidParamSchema.parse(req.params);
    const { clip, userId } = await reviewable(res, id);
    if (clip.render_status !== 'completed') throw new HttpProblem(409, 'clip-not-rendered', 'Clip Not Rendered', `the clip is ${clip.render_status}; only a rendered clip can be approved`);
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
      "multipart/form-data. The file must be a video (checked with ffprobe), no larger and no longer than the plan allows (413 / 422 naming the field). The transcript's timings are what clips are cut and captioned by: the platform has no speech-to-text.",
    security: bearer(),
    request: { body: { required: true, content: { 'multipart/form-data': { schema: VideoUploadFormSchema } } } },
    responses: { '201': json(UploadedVideoSchema, 'Stored'), ...problems(400, 401, 403, 413, 415, 422, 429) },
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
