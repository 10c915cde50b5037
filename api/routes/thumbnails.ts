import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { Router } from 'express';
import {
  abandonThumbnailJob,
  createThumbnailJob,
  findThumbnailJob,
  findUserThumbnail,
  findUserThumbnailJob,
  findUserVideoForThumbnails,
  foreignReferenceImageIds,
  listJobThumbnails,
  nextThumbnailVersion,
  selectThumbnail,
  ThumbnailLimitExceededError,
  unknownThumbnailKeys,
  userOwnsCharacterProfile,
  type NewThumbnailJob,
  type ThumbnailJob,
  type VideoThumbnail,
} from '../../db/repositories/thumbnails';
import { findYoutubeToken } from '../../db/repositories/google-credentials';
import { IdempotencyKeyHeaderSchema, UuidParamSchema } from '../../schemas/common';
import {
  CreateThumbnailsBodySchema,
  RefineThumbnailBodySchema,
  SelectThumbnailBodySchema,
  ThumbnailJobParamSchema,
  ThumbnailJobStartedSchema,
  ThumbnailJobViewSchema,
  ThumbnailRefineStartedSchema,
  ThumbnailSelectedSchema,
  type ThumbnailJobView,
  type ThumbnailRefinement,
  type ThumbnailsInput,
  type ThumbnailView,
  type ThumbnailYoutubeInput,
} from '../../schemas/thumbnails';
import { thumbnailsRun, thumbnailsWorkflowId, thumbnailYoutubeRun, thumbnailYoutubeWorkflowId } from '../../workflows/thumbnails/contract';
import { caller, requireScope } from '../auth';
import type { ApiDeps } from '../deps';
import { sendIdempotent } from '../idempotency';
import { HttpProblem, notFound } from '../problem';
import { bearer, json, problems, type RouteModule } from '../route-module';
import { runStartedBody, startRun } from '../run-starter';
import { isoOrNull } from '../dates';

const validationProblem = (field: string, message: string) =>
  new HttpProblem(400, 'validation', 'Validation failed', `${field}: ${message}`, { errors: [{ field, message }] });

const limitProblem = (err: ThumbnailLimitExceededError) =>
  new HttpProblem(402, 'thumbnail-limit-exceeded', 'Thumbnail Limit Reached', err.message, {
    plan: err.plan,
    aspectRatio: err.aspectRatio,
    limit: err.limit,
    resetsAt: err.resetsAt?.toISOString() ?? null,
  });

function thumbnailView(row: VideoThumbnail): ThumbnailView {
  return {
    id: row.id,
    videoId: row.video_id,
    jobId: row.job_id,
    style: row.style_name,
    aspectRatio: row.aspect_ratio,
    url: row.cloudinary_secure_url,
    width: row.width,
    height: row.height,
    format: row.format,
    bytes: row.file_size_bytes,
    overlayText: row.overlay_text,
    version: row.version,
    parentThumbnailId: row.parent_thumbnail_id,
    refinementInstruction: row.refinement_instruction,
    isSelected: row.is_selected,
    isUploadedToYoutube: row.is_uploaded_to_youtube,
    createdAt: row.created_at.toISOString(),
  };
}

function jobView(job: ThumbnailJob, thumbnails: VideoThumbnail[]): ThumbnailJobView {
  return {
    id: job.id,
    videoId: job.video_id,
    runId: job.run_id ?? thumbnailsWorkflowId(job.id),
    status: job.status,
    progress: job.progress,
    currentStyle: job.current_style,
    retryCount: job.retry_count,
    errorMessage: job.error_message,
    topic: job.topic,
    aspectRatio: job.aspect_ratio,
    styles: job.styles,
    thumbnailsRequested: job.thumbnails_requested,
    thumbnailsGenerated: job.thumbnails_generated,
    createdAt: job.created_at.toISOString(),
    completedAt: isoOrNull(job.completed_at),
    thumbnails: thumbnails.map(thumbnailView),
  };
}

function router(deps: ApiDeps): Router {
  const r = Router();
  const { db } = deps;

  const checkKeys = async (table: Parameters<typeof unknownThumbnailKeys>[1], keys: string[], field: string) => {
    const unknown = await unknownThumbnailKeys(db, table, keys);
    if (unknown.length > 0) throw validationProblem(field, `unknown or inactive key(s): ${unknown.join(', ')}`);
  };

  /** Reserves an iteration with the job row, then starts its run; a run that never starts gives the iteration back. */
  async function startJob(job: NewThumbnailJob, refinement: (ThumbnailRefinement & { version: number }) | undefined) {
    let created: ThumbnailJob;
    try {
      created = await db.transaction().execute((tx) => createThumbnailJob(tx, job));
    } catch (err) {
      if (err instanceof ThumbnailLimitExceededError) throw limitProblem(err);
      throw err;
    }
    const version = refinement?.version ?? 1;
    const input: ThumbnailsInput = {
      jobId: created.id,
      userId: job.userId,
      videoId: job.videoId,
      version,
      mediaTaskQueue: deps.taskQueues.media,
      ...(refinement ? { refinement: { parentThumbnailId: refinement.parentThumbnailId, instruction: refinement.instruction } } : {}),
    };
    try {
      const { runId } = await startRun(deps, thumbnailsRun, {
        workflowId: thumbnailsWorkflowId(created.id),
        args: [input],
        input: { videoId: job.videoId, aspectRatio: job.aspectRatio, styles: job.styles, version, refinement: refinement ?? null },
      });
      return { runId, jobId: created.id, version };
    } catch (err) {
      await abandonThumbnailJob(db, created.id);
      throw err;
    }
  }

  r.post('/v1/videos/:id/thumbnails', requireScope('runs:write'), async (req, res) => {
    const { id } = UuidParamSchema.parse(req.params);
    const body = CreateThumbnailsBodySchema.parse(req.body ?? {});
    const { userId } = caller(res);
    if (!(await findUserVideoForThumbnails(db, userId, id))) throw notFound('video');
    await checkKeys('thumbnail_expressions', [body.expression], 'expression');
    if (body.contentCategory) await checkKeys('thumbnail_content_categories', [body.contentCategory], 'contentCategory');
    if (body.styles) await checkKeys('thumbnail_styles', body.styles, 'styles');
    if ((await foreignReferenceImageIds(db, userId, body.referenceImageIds ?? [])).length > 0) throw notFound('reference image');
    if (body.characterProfileId && !(await userOwnsCharacterProfile(db, userId, body.characterProfileId)))
      throw notFound('character profile');

    await sendIdempotent(db, req, res, userId, async () => {
      const { runId, jobId } = await startJob(
        {
          userId,
          videoId: id,
          topic: body.topic,
          subTopic: body.subTopic ?? null,
          expression: body.expression,
          aspectRatio: body.aspectRatio,
          contentCategory: body.contentCategory ?? null,
          styles: body.styles ?? [],
          referenceImageIds: body.referenceImageIds ?? [],
          characterProfileId: body.characterProfileId ?? null,
        },
        undefined,
      );
      return { status: 202, body: { ...runStartedBody(runId), jobId } };
    });
  });

  r.get('/v1/thumbnail-jobs/:jobId', requireScope('runs:read'), async (req, res) => {
    const { jobId } = ThumbnailJobParamSchema.parse(req.params);
    const job = await findUserThumbnailJob(db, caller(res).userId, jobId);
    if (!job) throw notFound('thumbnail job');
    res.json(jobView(job, await listJobThumbnails(db, job.id)));
  });

  r.post('/v1/thumbnails/:id/refine', requireScope('runs:write'), async (req, res) => {
    const { id } = UuidParamSchema.parse(req.params);
    const body = RefineThumbnailBodySchema.parse(req.body ?? {});
    const { userId } = caller(res);
    const parent = await findUserThumbnail(db, userId, id);
    if (!parent) throw notFound('thumbnail');
    const parentJob = parent.job_id ? await findThumbnailJob(db, parent.job_id) : undefined;

    await sendIdempotent(db, req, res, userId, async () => {
      const version = await nextThumbnailVersion(db, parent.video_id, parent.style_name, parent.aspect_ratio);
      const { runId, jobId } = await startJob(
        {
          userId,
          videoId: parent.video_id,
          topic: parent.topic,
          subTopic: parent.sub_topic,
          expression: parent.expression_category,
          aspectRatio: parent.aspect_ratio,
          contentCategory: parent.content_category,
          styles: [parent.style_name],
          referenceImageIds: parentJob?.reference_image_ids ?? [],
          characterProfileId: parentJob?.character_profile_id ?? null,
        },
        { parentThumbnailId: parent.id, instruction: body.instruction, version },
      );
      return { status: 202, body: { ...runStartedBody(runId), jobId, parentThumbnailId: parent.id, version } };
    });
  });

  r.post('/v1/thumbnails/:id/select', requireScope('runs:write'), async (req, res) => {
    const { id } = UuidParamSchema.parse(req.params);
    const body = SelectThumbnailBodySchema.parse(req.body ?? {});
    const { userId } = caller(res);
    const thumbnail = await findUserThumbnail(db, userId, id);
    if (!thumbnail) throw notFound('thumbnail');
    if (body.uploadToYouTube) {
      const video = await findUserVideoForThumbnails(db, userId, thumbnail.video_id);
      if (!video?.youtube_video_id)
        throw new HttpProblem(
          409,
          'video-not-on-youtube',
          'Video Not On YouTube',
          'this video was not imported from YouTube, so its thumbnail cannot be set there',
        );
      const token = await findYoutubeToken(db, userId, null);
      if (!token) {
        throw new HttpProblem(
          422,
          'youtube-not-connected',
          'YouTube Not Connected',
          'uploadToYouTube: connect your YouTube channel first',
          {
            errors: [{ field: 'uploadToYouTube', message: 'no active YouTube connection' }],
          },
        );
      }
    }

    await sendIdempotent(db, req, res, userId, async () => {
      const selected = await selectThumbnail(db, thumbnail.id);
      if (!body.uploadToYouTube) return { status: 200, body: { thumbnail: thumbnailView(selected) } };
      const input: ThumbnailYoutubeInput = { thumbnailId: selected.id, userId };
      const { runId } = await startRun(deps, thumbnailYoutubeRun, {
        workflowId: thumbnailYoutubeWorkflowId(selected.id, Date.now()),
        args: [input],
        input: { thumbnailId: selected.id },
      });
      return { status: 202, body: { thumbnail: thumbnailView(selected), upload: runStartedBody(runId) } };
    });
  });

  return r;
}

function document(registry: OpenAPIRegistry): void {
  registry.registerPath({
    method: 'post',
    path: '/v1/videos/{id}/thumbnails',
    tags: ['Jobs'],
    summary: 'Generate AI thumbnails for a video, one per style',
    description:
      "Reserves one iteration of the plan's thumbnail allowance for the aspect ratio (402 naming the limit and its reset date when none is left), then runs `thumbnails:<jobId>`: per style the AI writes the overlay text and layout, the image is rendered (a frame of the video when its file is available, else the style's background), uploaded to Cloudinary and listed on the job. Only a job that produced a thumbnail is charged.",
    security: bearer(),
    request: {
      params: UuidParamSchema,
      headers: IdempotencyKeyHeaderSchema,
      body: { required: true, content: { 'application/json': { schema: CreateThumbnailsBodySchema } } },
    },
    responses: {
      '202': json(ThumbnailJobStartedSchema, 'Generation started'),
      ...problems(400, 401, 402, 403, 404, 413, 415, 422, 429),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/thumbnail-jobs/{jobId}',
    tags: ['Thumbnails'],
    summary: 'A thumbnail job: status, progress, current style, retries and the thumbnails produced so far',
    security: bearer(),
    request: { params: ThumbnailJobParamSchema },
    responses: { '200': json(ThumbnailJobViewSchema, 'The job'), ...problems(400, 401, 403, 404, 429) },
  });
  registry.registerPath({
    method: 'post',
    path: '/v1/thumbnails/{id}/refine',
    tags: ['Thumbnails'],
    summary: 'Generate the next version of one thumbnail from an instruction (the thumbnail becomes its parent)',
    description: 'A refinement is a one-style thumbnail job and uses one iteration of the allowance (402 when none is left).',
    security: bearer(),
    request: {
      params: UuidParamSchema,
      headers: IdempotencyKeyHeaderSchema,
      body: { required: true, content: { 'application/json': { schema: RefineThumbnailBodySchema } } },
    },
    responses: {
      '202': json(ThumbnailRefineStartedSchema, 'Refinement started'),
      ...problems(400, 401, 402, 403, 404, 413, 415, 422, 429),
    },
  });
  registry.registerPath({
    method: 'post',
    path: '/v1/thumbnails/{id}/select',
    tags: ['Thumbnails'],
    summary: "Make this the video's selected thumbnail (one per video), optionally setting it on YouTube",
    security: bearer(),
    request: {
      params: UuidParamSchema,
      headers: IdempotencyKeyHeaderSchema,
      body: { required: false, content: { 'application/json': { schema: SelectThumbnailBodySchema } } },
    },
    responses: {
      '200': json(ThumbnailSelectedSchema, 'Selected'),
      '202': json(ThumbnailSelectedSchema, 'Selected; the YouTube upload run started'),
      ...problems(400, 401, 403, 404, 409, 413, 415, 422, 429),
    },
  });
}

export const thumbnailRoutes: RouteModule = { router, document };
