import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { createWriteStream } from 'node:fs';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { WorkflowNotFoundError } from '@temporalio/client';
import busboy from 'busboy';
import express, { Router, type Request } from 'express';
import { z } from 'zod';
import { applyCreditTransaction, getCreditBalance } from '../../db/repositories/credits';
import {
  activeModel,
  imagesThisMonth,
  insertImageGeneration,
  insertTrainingRun,
  listImages,
  listTrainingRuns,
  pendingImageRequests,
} from '../../db/repositories/sselfie';
import { findUser } from '../../db/repositories/users';
import { mediaStoreFor } from '../../lib/media/store';
import { safeFetch, urlGuardOptions } from '../../lib/ssrf';
import { IdempotencyKeyHeaderSchema, UuidParamSchema } from '../../schemas/common';
import {
  AdminCreditGrantBodySchema,
  AdminCreditGrantSchema,
  AiImageViewSchema,
  CreateImagesBodySchema,
  CreateModelBodySchema,
  IMAGE_CREDIT_COST,
  ImagesStartedSchema,
  MAX_TRAINING_IMAGE_BYTES,
  MAX_TRAINING_IMAGES,
  MIN_TRAINING_IMAGES,
  ModelStartedSchema,
  ModelViewSchema,
  TRAINING_CREDIT_COST,
  TRAINING_IMAGE_TYPES,
  type ModelView,
  type ProviderPolling,
} from '../../schemas/sselfie';
import { imageGenerationRun, imageGenerationWorkflowId } from '../../workflows/image-generation/contract';
import { modelTrainingRun, modelTrainingWorkflowId } from '../../workflows/model-training/contract';
import { recordAudit } from '../audit';
import { caller, requireScope } from '../auth';
import { providersOf, sandboxUrlsOf, type ApiDeps } from '../deps';
import { sendIdempotent } from '../idempotency';
import { HttpProblem, notFound } from '../problem';
import { bearer, json, problems, type RouteModule } from '../route-module';
import { runStartedBody, startRun } from '../run-starter';
import { fieldProblem } from '../video-intake';

interface SelfieFile {
  path: string;
  contentType: string;
  bytes: number;
}

const EXTENSION: Record<string, string> = { 'image/jpeg': 'jpg', 'image/png': 'png', 'image/webp': 'webp' };
const isTrainingImageType = (type: string): boolean => (TRAINING_IMAGE_TYPES as readonly string[]).includes(type);
const imageTypeProblem = (field: string, type: string) =>
  fieldProblem(422, 'unsupported-image', 'Unsupported Image', field, `${type || 'this file'} is not a JPEG, PNG or WebP image`);
const imageCountProblem = (count: number) =>
  fieldProblem(
    422,
    'image-count',
    'Wrong Number Of Images',
    'images',
    `send ${MIN_TRAINING_IMAGES}–${MAX_TRAINING_IMAGES} images, got ${count}`,
  );
const paymentRequired = (detail: string, extra: Record<string, unknown>) =>
  new HttpProblem(402, 'insufficient-credits', 'Payment Required', detail, extra);

/** Multipart `images` files (10–20 JPEG/PNG/WebP, each ≤ 10 MB) streamed into `dir`; 422 naming the field otherwise. */
function receiveSelfies(req: Request, dir: string): Promise<{ files: SelfieFile[]; name?: string }> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: req.headers, limits: { files: MAX_TRAINING_IMAGES + 1, fileSize: MAX_TRAINING_IMAGE_BYTES, fields: 5 } });
    } catch (err) {
      reject(fieldProblem(400, 'validation', 'Validation failed', 'images', `malformed multipart body: ${(err as Error).message}`));
      return;
    }
    const files: SelfieFile[] = [];
    const writes: Array<Promise<unknown>> = [];
    let name: string | undefined;
    let problem: HttpProblem | undefined;
    parser.on('file', (field, stream, info) => {
      const type = info.mimeType.split(';')[0]!.trim().toLowerCase();
      if (field !== 'images') problem ??= fieldProblem(422, 'validation', 'Validation failed', field, 'send the selfies as `images`');
      else if (!isTrainingImageType(type)) problem ??= imageTypeProblem(`images[${files.length}]`, type);
      if (problem) {
        stream.resume();
        return;
      }
      const file: SelfieFile = { path: join(dir, `${files.length}.${EXTENSION[type]}`), contentType: type, bytes: 0 };
      files.push(file);
      stream.on('data', (chunk: Buffer) => (file.bytes += chunk.length));
      stream.on(
        'limit',
        () => (problem ??= fieldProblem(413, 'image-too-large', 'Image Too Large', `images[${files.indexOf(file)}]`, 'at most 10 MB')),
      );
      const out = createWriteStream(file.path);
      stream.pipe(out);
      writes.push(finished(out));
    });
    parser.on('field', (field, value) => {
      if (field === 'name') name = value.trim() || undefined;
    });
    parser.on('filesLimit', () => (problem ??= imageCountProblem(MAX_TRAINING_IMAGES + 1)));
    parser.on('error', (err: Error) =>
      reject(fieldProblem(400, 'validation', 'Validation failed', 'images', `malformed multipart body: ${err.message}`)),
    );
    parser.on('close', () => {
      Promise.all(writes).then(() => (problem ? reject(problem) : resolve({ files, name })), reject);
    });
    req.pipe(parser);
  });
}

/** JSON `imageUrls` fetched through the SSRF guard into `dir`, with the same type and size rules. */
async function fetchSelfies(deps: ApiDeps, urls: string[], dir: string): Promise<SelfieFile[]> {
  const sandboxHosts = Object.values(sandboxUrlsOf(deps)).map((url) => new URL(url).host);
  const guard = urlGuardOptions(deps.config, sandboxHosts);
  return Promise.all(
    urls.map(async (url, index) => {
      const field = `imageUrls[${index}]`;
      const res = await safeFetch(url, { timeoutMs: 15_000 }, guard).catch((err: unknown) => {
        throw fieldProblem(422, 'unreachable-image', 'Image Unreachable', field, (err as Error).message);
      });
      if (!res.ok) throw fieldProblem(422, 'unreachable-image', 'Image Unreachable', field, `answered HTTP ${res.status}`);
      const type = (res.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
      if (!isTrainingImageType(type)) throw imageTypeProblem(field, type);
      const bytes = Buffer.from(await res.arrayBuffer());
      if (bytes.length > MAX_TRAINING_IMAGE_BYTES) throw fieldProblem(413, 'image-too-large', 'Image Too Large', field, 'at most 10 MB');
      const path = join(dir, `${index}.${EXTENSION[type]}`);
      await writeFile(path, bytes);
      return { path, contentType: type, bytes: bytes.length };
    }),
  );
}

export const polling = (deps: ApiDeps): ProviderPolling => ({
  initialMs: deps.config.PROVIDER_POLL_INITIAL_MS,
  maxMs: deps.config.PROVIDER_POLL_MAX_MS,
});

export async function requireCredits(deps: ApiDeps, userId: string, needed: number): Promise<void> {
  const { balance } = await getCreditBalance(deps.db, userId);
  if (balance < needed) throw paymentRequired(`this needs ${needed} credits; your balance is ${balance}`, { balance, required: needed });
}

/** POST /v1/models: multipart or JSON, so it is mounted with the multipart routes and parses JSON itself. */
function uploadRouter(deps: ApiDeps): Router {
  const r = Router();
  const mediaStore = mediaStoreFor(deps.config, () => providersOf(deps).cloudinary);
  r.post('/v1/models', requireScope('runs:write'), express.json({ limit: '64kb' }), async (req, res) => {
    const { userId } = caller(res);
    const multipart = req.is('multipart/form-data') === 'multipart/form-data';
    if (!multipart && !req.is('application/json'))
      throw new HttpProblem(
        415,
        'unsupported-media-type',
        'Unsupported Media Type',
        'send multipart/form-data `images` or JSON {"imageUrls": [...]}',
      );
    const body = multipart ? undefined : CreateModelBodySchema.parse(req.body ?? {});
    const dir = await mkdtemp(join(tmpdir(), 'selfies-'));
    try {
      const received = multipart
        ? await receiveSelfies(req, dir)
        : { files: await fetchSelfies(deps, body!.imageUrls, dir), name: body!.name };
      if (received.files.length < MIN_TRAINING_IMAGES || received.files.length > MAX_TRAINING_IMAGES)
        throw imageCountProblem(received.files.length);
      // After the images are read (into a temp dir only): a request without valid images is a 4xx naming them, whatever the balance.
      await requireCredits(deps, userId, TRAINING_CREDIT_COST);
      await sendIdempotent(deps.db, req, res, userId, async () => {
        const modelId = randomUUID();
        const selfies = await Promise.all(
          received.files.map(async (file, position) => {
            const stored = await mediaStore.put(
              `sselfie/selfies/${modelId}/${position}.${EXTENSION[file.contentType]}`,
              file.path,
              'image',
            );
            return { imageUrl: stored.url, mediaKey: stored.key, contentType: file.contentType, bytes: stored.bytes };
          }),
        );
        const workflowId = modelTrainingWorkflowId(modelId);
        const { runId } = await deps.db.transaction().execute(async (tx) => {
          const triggerWord = `TOK${modelId.slice(0, 6).toUpperCase()}`;
          await insertTrainingRun(tx, {
            id: modelId,
            userId,
            modelName: received.name ?? 'My model',
            triggerWord,
            creditsCost: TRAINING_CREDIT_COST,
            selfies,
          });
          return startRun(deps, modelTrainingRun, {
            db: tx,
            workflowId,
            args: [{ modelId, userId, credits: TRAINING_CREDIT_COST, mediaTaskQueue: deps.taskQueues.media, polling: polling(deps) }],
            input: { modelId, images: selfies.length },
          });
        });
        return { status: 202, body: { modelId, ...runStartedBody(runId) } };
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
  return r;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

function modelView(row: Awaited<ReturnType<typeof listTrainingRuns>>[number]): ModelView {
  return {
    id: row.id,
    name: row.model_name,
    triggerWord: row.trigger_word,
    status: row.training_status,
    progress: row.training_progress,
    estimatedCompletionTime: iso(row.estimated_completion_time),
    failureReason: row.failure_reason,
    isActive: Boolean(row.is_active),
    imageCount: Number(row.image_count ?? 0),
    runId: modelTrainingWorkflowId(row.id),
    createdAt: row.created_at.toISOString(),
    completedAt: iso(row.completed_at),
  };
}

function router(deps: ApiDeps): Router {
  const r = Router();

  r.get('/v1/models', requireScope('runs:read'), async (_req, res) => {
    const { userId } = caller(res);
    res.json({ data: (await listTrainingRuns(deps.db, userId)).map(modelView) });
  });

  r.get('/v1/models/:id', requireScope('runs:read'), async (req, res) => {
    const { id } = UuidParamSchema.parse(req.params);
    const [row] = await listTrainingRuns(deps.db, caller(res).userId, id);
    if (!row) throw notFound('model');
    res.json(modelView(row));
  });

  r.post('/v1/models/:id/cancel', requireScope('runs:write'), async (req, res) => {
    const { id } = UuidParamSchema.parse(req.params);
    const [row] = await listTrainingRuns(deps.db, caller(res).userId, id);
    if (!row) throw notFound('model');
    if (row.training_status === 'completed' || row.training_status === 'failed' || row.training_status === 'canceled')
      throw new HttpProblem(409, 'training-ended', 'Training Ended', `the training is already ${row.training_status}`);
    await deps.temporal.workflow
      .getHandle(modelTrainingWorkflowId(id))
      .cancel()
      .catch((err: unknown) => {
        if (err instanceof WorkflowNotFoundError)
          throw new HttpProblem(409, 'training-ended', 'Training Ended', 'the training run has ended');
        throw err;
      });
    res.status(202).json({ modelId: id, cancelRequested: true });
  });

  r.post('/v1/images', requireScope('runs:write'), async (req, res) => {
    const body = CreateImagesBodySchema.parse(req.body ?? {});
    const { userId } = caller(res);
    const model = await activeModel(deps.db, userId);
    if (!model?.replicate_version_id)
      throw new HttpProblem(409, 'no-active-model', 'No Active Model', 'train a model first (POST /v1/models)');
    await requireCredits(deps, userId, body.count * IMAGE_CREDIT_COST);
    const user = await findUser(deps.db, userId);
    const used = (await imagesThisMonth(deps.db, userId)) + (await pendingImageRequests(deps.db, userId));
    const limit = user?.monthly_generation_limit ?? 0;
    if (used + body.count > limit)
      throw paymentRequired(`your plan allows ${limit} images a month; ${used} used`, { monthlyGenerationLimit: limit, used });
    await sendIdempotent(deps.db, req, res, userId, async () => {
      const generationId = randomUUID();
      const { runId } = await deps.db.transaction().execute(async (tx) => {
        await insertImageGeneration(tx, {
          id: generationId,
          userId,
          trainingRunId: model.id,
          prompt: body.prompt,
          style: body.style ?? null,
          imageCount: body.count,
        });
        return startRun(deps, imageGenerationRun, {
          db: tx,
          workflowId: imageGenerationWorkflowId(generationId),
          args: [{ generationId, userId, count: body.count, mediaTaskQueue: deps.taskQueues.media, polling: polling(deps) }],
          input: body,
        });
      });
      return { status: 202, body: { generationId, ...runStartedBody(runId) } };
    });
  });

  r.get('/v1/images', requireScope('runs:read'), async (_req, res) => {
    const rows = await listImages(deps.db, caller(res).userId);
    res.json({
      data: rows.map((row) => ({
        id: row.id,
        generationId: row.generation_id,
        prompt: row.prompt,
        style: row.style,
        seed: row.seed,
        status: row.generation_status,
        imageUrl: row.image_url,
        failureReason: row.failure_reason,
        createdAt: row.created_at.toISOString(),
      })),
    });
  });

  // Admin credit grant: a `bonus` ledger row, once per Idempotency-Key.
  r.post('/v1/admin/users/:id/credits', requireScope('admin'), async (req, res) => {
    const { id } = UuidParamSchema.parse(req.params);
    const body = AdminCreditGrantBodySchema.parse(req.body ?? {});
    const { 'idempotency-key': key } = IdempotencyKeyHeaderSchema.parse({ 'idempotency-key': req.header('idempotency-key') });
    if (!key) throw fieldProblem(400, 'validation', 'Validation failed', 'Idempotency-Key', 'required: a retried grant must not pay twice');
    const admin = caller(res);
    if (!(await findUser(deps.db, id))) throw notFound('user');
    await sendIdempotent(deps.db, req, res, admin.userId, async () => {
      const applied = await deps.db.transaction().execute(async (tx) => {
        const credit = await applyCreditTransaction(tx, {
          userId: id,
          amount: body.amount,
          type: 'bonus',
          description: body.reason,
          referenceId: admin.userId,
          idempotencyKey: `admin_credit_grant:${admin.userId}:${key}`,
        });
        await recordAudit(tx, req, {
          userId: admin.userId,
          action: 'credits.grant',
          entityType: 'user',
          entityId: id,
          newValues: { amount: body.amount, reason: body.reason },
        });
        return credit;
      });
      return { status: 201, body: { userId: id, amount: body.amount, balance: applied.balance, transactionId: applied.transaction.id } };
    });
  });

  return r;
}

const uuidParams = z.object({ id: z.uuid() });

function document(registry: OpenAPIRegistry): void {
  registry.registerPath({
    method: 'post',
    path: '/v1/models',
    tags: ['Jobs'],
    summary: 'Train a personal model from 10–20 selfies (multipart `images`, or JSON `imageUrls`); costs training credits',
    security: bearer(),
    request: {
      headers: IdempotencyKeyHeaderSchema,
      body: {
        required: true,
        content: {
          'application/json': { schema: CreateModelBodySchema },
          'multipart/form-data': {
            schema: z.object({
              images: z
                .array(z.string().meta({ format: 'binary' }))
                .min(MIN_TRAINING_IMAGES)
                .max(MAX_TRAINING_IMAGES),
              name: z.string().optional(),
            }),
          },
        },
      },
    },
    responses: { '202': json(ModelStartedSchema, 'Training started'), ...problems(400, 401, 402, 403, 409, 413, 415, 422, 429) },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/models',
    tags: ['SSELFIE'],
    summary: 'Your personal models, newest first',
    security: bearer(),
    responses: { '200': json(z.object({ data: z.array(ModelViewSchema) }), 'Models'), ...problems(401, 403, 429) },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/models/{id}',
    tags: ['SSELFIE'],
    summary: 'One model: training status, progress and ETA',
    security: bearer(),
    request: { params: uuidParams },
    responses: { '200': json(ModelViewSchema, 'The model'), ...problems(400, 401, 403, 404, 429) },
  });
  registry.registerPath({
    method: 'post',
    path: '/v1/models/{id}/cancel',
    tags: ['SSELFIE'],
    summary: 'Cancel a training: the Replicate training is canceled and the credits refunded',
    security: bearer(),
    request: { params: uuidParams },
    responses: {
      '202': json(z.object({ modelId: z.uuid(), cancelRequested: z.literal(true) }), 'Cancel requested'),
      ...problems(400, 401, 403, 404, 409, 429),
    },
  });
  registry.registerPath({
    method: 'post',
    path: '/v1/images',
    tags: ['Jobs'],
    summary: 'Generate 1–4 images with your active model (one credit each)',
    security: bearer(),
    request: {
      headers: IdempotencyKeyHeaderSchema,
      body: { required: true, content: { 'application/json': { schema: CreateImagesBodySchema } } },
    },
    responses: { '202': json(ImagesStartedSchema, 'Generation started'), ...problems(400, 401, 402, 403, 409, 413, 415, 422, 429) },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/images',
    tags: ['SSELFIE'],
    summary: 'Your generated images with prompt and seed, newest first',
    security: bearer(),
    responses: { '200': json(z.object({ data: z.array(AiImageViewSchema) }), 'Images'), ...problems(401, 403, 429) },
  });
  registry.registerPath({
    method: 'post',
    path: '/v1/admin/users/{id}/credits',
    tags: ['Admin'],
    summary: 'Grant credits to a user (a bonus ledger row; Idempotency-Key required)',
    security: bearer(),
    request: {
      params: uuidParams,
      // Required here: a retried grant must not pay twice.
      headers: IdempotencyKeyHeaderSchema.required(),
      body: { required: true, content: { 'application/json': { schema: AdminCreditGrantBodySchema } } },
    },
    responses: { '201': json(AdminCreditGrantSchema, 'Granted'), ...problems(400, 401, 403, 404, 409, 413, 415, 422, 429) },
  });
}

export const sselfieUploadRoutes: RouteModule = { router: uploadRouter, document };
export const sselfieRoutes: RouteModule = { router, document: () => undefined };
