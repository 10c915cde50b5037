import { z } from 'zod';
import { nonBlankText } from './common';

/** Credits a personal model training costs, and one generated image. */
export const TRAINING_CREDIT_COST = 20;
export const IMAGE_CREDIT_COST = 1;

/** Selfies a training takes (Replicate's LoRA trainers want 10–20 varied photos). */
export const MIN_TRAINING_IMAGES = 10;
export const MAX_TRAINING_IMAGES = 20;
export const MAX_TRAINING_IMAGE_BYTES = 10 * 1024 * 1024;
export const TRAINING_IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/webp'] as const;

export const IMAGE_STYLES = ['natural', 'editorial', 'studio', 'lifestyle', 'luxury'] as const;

/** How fast a run polls its provider job when no webhook arrives (ms); from config, so tests and the sandbox finish fast. */
export const ProviderPollingSchema = z.object({ initialMs: z.number().int().positive(), maxMs: z.number().int().positive() });
export type ProviderPolling = z.infer<typeof ProviderPollingSchema>;

/** POST /v1/models as JSON: the selfies as URLs (fetched through the SSRF guard). Multipart sends `images` files instead. */
export const CreateModelBodySchema = z
  .object({
    name: nonBlankText(100).optional(),
    imageUrls: z.array(z.url()).min(MIN_TRAINING_IMAGES).max(MAX_TRAINING_IMAGES),
  })
  .meta({ id: 'CreateModelBody' });

export const ModelStartedSchema = z.object({ modelId: z.uuid(), runId: z.string(), statusUrl: z.string() }).meta({ id: 'ModelStarted' });

export const TrainingStatusSchema = z.enum(['pending', 'training', 'completed', 'failed', 'canceled']);

export const ModelViewSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    triggerWord: z.string(),
    status: TrainingStatusSchema,
    progress: z.number().int(),
    estimatedCompletionTime: z.string().nullable(),
    failureReason: z.string().nullable(),
    isActive: z.boolean(),
    imageCount: z.number().int(),
    runId: z.string(),
    createdAt: z.string(),
    completedAt: z.string().nullable(),
  })
  .meta({ id: 'Model' });
export type ModelView = z.infer<typeof ModelViewSchema>;

export const CreateImagesBodySchema = z
  .object({
    prompt: nonBlankText(1000),
    style: z.enum(IMAGE_STYLES).optional(),
    count: z.number().int().min(1).max(4).default(1),
  })
  .meta({ id: 'CreateImagesBody' });

export const ImagesStartedSchema = z
  .object({ generationId: z.uuid(), runId: z.string(), statusUrl: z.string() })
  .meta({ id: 'ImagesStarted' });

export const AiImageViewSchema = z
  .object({
    id: z.uuid(),
    generationId: z.uuid(),
    prompt: z.string(),
    style: z.string().nullable(),
    seed: z.number().int(),
    status: z.enum(['pending', 'generating', 'completed', 'failed']),
    imageUrl: z.string().nullable(),
    failureReason: z.string().nullable(),
    createdAt: z.string(),
  })
  .meta({ id: 'AiImage' });

export const AdminCreditGrantBodySchema = z
  .object({
    amount: z.number().int().min(1).max(100_000),
    reason: nonBlankText(500),
  })
  .meta({ id: 'AdminCreditGrantBody' });

export const AdminCreditGrantSchema = z
  .object({ userId: z.uuid(), amount: z.number().int(), balance: z.number().int(), transactionId: z.uuid() })
  .meta({ id: 'AdminCreditGrant' });

// ---- workflow inputs and results ----------------------------------------------------------------

export interface ModelTrainingInput {
  modelId: string;
  userId: string;
  credits: number;
  /** The media worker's queue: the selfies are zipped where the media store is. */
  mediaTaskQueue: string;
  polling: ProviderPolling;
}

export interface ModelTrainingResult {
  modelId: string;
  versionId: string;
}

export interface ImageGenerationInput {
  generationId: string;
  userId: string;
  count: number;
  mediaTaskQueue: string;
  polling: ProviderPolling;
}

export interface ImageGenerationResult {
  generationId: string;
  delivered: number;
  failed: number;
}
