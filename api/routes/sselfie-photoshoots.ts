import { createHash, randomUUID } from 'node:crypto';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { Router } from 'express';
import { z } from 'zod';
import { activeModel } from '../../db/repositories/sselfie';
import {
  findOwnImage,
  insertGeneratedVideo,
  insertPhotoshootSession,
  listGeneratedVideos,
  listPhotoshootSessions,
  photoshootFrames,
  photoshootGrids,
} from '../../db/repositories/sselfie-photoshoots';
import { IdempotencyKeyHeaderSchema, UuidParamSchema } from '../../schemas/common';
import {
  ANIMATION_CREDIT_COST,
  AnimateImageBodySchema,
  AnimationStartedSchema,
  AnimationViewSchema,
  CreatePhotoshootBodySchema,
  PHOTOSHOOT_GRID_CREDIT_COST,
  PhotoshootStartedSchema,
  PhotoshootViewSchema,
  type PhotoshootView,
} from '../../schemas/sselfie-photoshoots';
import { animationRun, animationWorkflowId } from '../../workflows/animation/contract';
import { photoshootRun, photoshootWorkflowId } from '../../workflows/photoshoot/contract';
import { caller, requireScope } from '../auth';
import type { ApiDeps } from '../deps';
import { sendIdempotent } from '../idempotency';
import { HttpProblem, notFound } from '../problem';
import { bearer, json, problems, type RouteModule } from '../route-module';
import { runStartedBody, startRun } from '../run-starter';
import { polling, requireCredits } from './sselfie';

const iso = (d: Date | null) => (d ? d.toISOString() : null);
/** A stable seed per grid, so a retried prediction asks for the same contact sheet. */
const gridSeed = (sessionId: string, position: number) =>
  createHash('sha256').update(`${sessionId}:${position}`).digest().readUInt32BE(0) >>> 1;
const noActiveModel = () => new HttpProblem(409, 'no-active-model', 'No Active Model', 'train a model first (POST /v1/models)');

type SessionRow = Awaited<ReturnType<typeof listPhotoshootSessions>>[number];

function sessionView(row: SessionRow): PhotoshootView {
  const gridsCompleted = Number(row.grids_completed);
  const gridsFailed = Number(row.grids_failed);
  return {
    id: row.id,
    status: row.status,
    progress: Math.round((100 * (gridsCompleted + gridsFailed)) / row.grid_count),
    gridCount: row.grid_count,
    gridsCompleted,
    gridsFailed,
    failureReason: row.failure_reason,
    runId: photoshootWorkflowId(row.id),
    createdAt: row.created_at.toISOString(),
    completedAt: iso(row.completed_at),
  };
}

function router(deps: ApiDeps): Router {
  const r = Router();

  r.post('/v1/photoshoots', requireScope('runs:write'), async (req, res) => {
    const body = CreatePhotoshootBodySchema.parse(req.body ?? {});
    const { userId } = caller(res);
    const model = await activeModel(deps.db, userId);
    if (!model?.replicate_version_id) throw noActiveModel();
    await requireCredits(deps, userId, body.styles.length * PHOTOSHOOT_GRID_CREDIT_COST);
    await sendIdempotent(deps.db, req, res, userId, async () => {
      const sessionId = randomUUID();
      const { runId } = await deps.db.transaction().execute(async (tx) => {
        await insertPhotoshootSession(tx, {
          id: sessionId,
          userId,
          trainingRunId: model.id,
          creditsPerGrid: PHOTOSHOOT_GRID_CREDIT_COST,
          grids: body.styles.map((style, position) => ({ style, seed: gridSeed(sessionId, position) })),
        });
        return startRun(deps, photoshootRun, {
          db: tx,
          workflowId: photoshootWorkflowId(sessionId),
          args: [{ sessionId, userId, gridCount: body.styles.length, mediaTaskQueue: deps.taskQueues.media, polling: polling(deps) }],
          input: body,
        });
      });
      return { status: 202, body: { sessionId, ...runStartedBody(runId) } };
    });
  });

  r.get('/v1/photoshoots', requireScope('runs:read'), async (_req, res) => {
    res.json({ data: (await listPhotoshootSessions(deps.db, caller(res).userId)).map(sessionView) });
  });

  r.get('/v1/photoshoots/:id', requireScope('runs:read'), async (req, res) => {
    const { id } = UuidParamSchema.parse(req.params);
    const [row] = await listPhotoshootSessions(deps.db, caller(res).userId, id);
    if (!row) throw notFound('photoshoot');
    const [grids, frames] = await Promise.all([photoshootGrids(deps.db, id), photoshootFrames(deps.db, id)]);
    res.json({
      ...sessionView(row),
      grids: grids.map((grid) => ({
        position: grid.position,
        style: grid.style,
        status: grid.status,
        failureReason: grid.failure_reason,
        frames: frames
          .filter((frame) => frame.grid_position === grid.position)
          .map((frame) => ({ position: frame.position, imageUrl: frame.image_url, width: frame.width, height: frame.height })),
      })),
    });
  });

  r.post('/v1/images/:id/animate', requireScope('runs:write'), async (req, res) => {
    const { id: imageId } = UuidParamSchema.parse(req.params);
    const body = AnimateImageBodySchema.parse(req.body ?? {});
    const { userId } = caller(res);
    const image = await findOwnImage(deps.db, userId, imageId);
    if (!image) throw notFound('image');
    if (image.generation_status !== 'completed' || !image.image_url)
      throw new HttpProblem(
        409,
        'image-not-ready',
        'Image Not Ready',
        `the image is ${image.generation_status}; animate a completed image`,
      );
    await requireCredits(deps, userId, ANIMATION_CREDIT_COST);
    await sendIdempotent(deps.db, req, res, userId, async () => {
      const videoId = randomUUID();
      const { runId } = await deps.db.transaction().execute(async (tx) => {
        await insertGeneratedVideo(tx, { id: videoId, userId, imageId, motion: body.motion ?? null, creditsCost: ANIMATION_CREDIT_COST });
        return startRun(deps, animationRun, {
          db: tx,
          workflowId: animationWorkflowId(imageId, videoId),
          args: [{ videoId, userId, mediaTaskQueue: deps.taskQueues.media, polling: polling(deps) }],
          input: { imageId, ...body },
        });
      });
      return { status: 202, body: { videoId, ...runStartedBody(runId) } };
    });
  });

  const animationView = (row: Awaited<ReturnType<typeof listGeneratedVideos>>[number]) => ({
    id: row.id,
    imageId: row.image_id,
    motion: row.motion,
    status: row.status,
    videoUrl: row.video_url,
    bytes: row.bytes,
    failureReason: row.failure_reason,
    runId: animationWorkflowId(row.image_id, row.id),
    createdAt: row.created_at.toISOString(),
    completedAt: iso(row.completed_at),
  });

  r.get('/v1/animations', requireScope('runs:read'), async (_req, res) => {
    res.json({ data: (await listGeneratedVideos(deps.db, caller(res).userId)).map(animationView) });
  });

  r.get('/v1/animations/:id', requireScope('runs:read'), async (req, res) => {
    const { id } = UuidParamSchema.parse(req.params);
    const [row] = await listGeneratedVideos(deps.db, caller(res).userId, id);
    if (!row) throw notFound('animation');
    res.json(animationView(row));
  });

  return r;
}

const uuidParams = z.object({ id: z.uuid() });

function document(registry: OpenAPIRegistry): void {
  registry.registerPath({
    method: 'post',
    path: '/v1/photoshoots',
    tags: ['Jobs'],
    summary: `A pro photoshoot with your active model: one 3×3 grid (9 frames) per style, ${PHOTOSHOOT_GRID_CREDIT_COST} credits a grid`,
    security: bearer(),
    request: {
      headers: IdempotencyKeyHeaderSchema,
      body: { required: true, content: { 'application/json': { schema: CreatePhotoshootBodySchema } } },
    },
    responses: { '202': json(PhotoshootStartedSchema, 'Photoshoot started'), ...problems(400, 401, 402, 403, 409, 413, 415, 422, 429) },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/photoshoots',
    tags: ['SSELFIE'],
    summary: 'Your photoshoots with status and progress, newest first',
    security: bearer(),
    responses: { '200': json(z.object({ data: z.array(PhotoshootViewSchema) }), 'Photoshoots'), ...problems(401, 403, 429) },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/photoshoots/{id}',
    tags: ['SSELFIE'],
    summary: 'One photoshoot: status, progress, and each grid with its frames',
    security: bearer(),
    request: { params: uuidParams },
    responses: { '200': json(PhotoshootViewSchema, 'The photoshoot'), ...problems(400, 401, 403, 404, 429) },
  });
  registry.registerPath({
    method: 'post',
    path: '/v1/images/{id}/animate',
    tags: ['Jobs'],
    summary: `Animate one of your generated images into a short mp4 (${ANIMATION_CREDIT_COST} credits)`,
    security: bearer(),
    request: {
      params: uuidParams,
      headers: IdempotencyKeyHeaderSchema,
      body: { required: false, content: { 'application/json': { schema: AnimateImageBodySchema } } },
    },
    responses: { '202': json(AnimationStartedSchema, 'Animation started'), ...problems(400, 401, 402, 403, 404, 409, 413, 415, 422, 429) },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/animations',
    tags: ['SSELFIE'],
    summary: 'Your animations, newest first',
    security: bearer(),
    responses: { '200': json(z.object({ data: z.array(AnimationViewSchema) }), 'Animations'), ...problems(401, 403, 429) },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/animations/{id}',
    tags: ['SSELFIE'],
    summary: 'One animation: status and the stored mp4',
    security: bearer(),
    request: { params: uuidParams },
    responses: { '200': json(AnimationViewSchema, 'The animation'), ...problems(400, 401, 403, 404, 429) },
  });
}

export const sselfiePhotoshootRoutes: RouteModule = { router, document };
