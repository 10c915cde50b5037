import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  completeImage,
  completeTrainingRun,
  endImageGeneration,
  endTrainingRun,
  ensureImageRows,
  failImage,
  findImageGeneration,
  findTrainingRun,
  recordImagePrediction,
  recordTrainingProgress,
  recordTrainingSubmitted,
  trainingSelfies,
} from '../db/repositories/sselfie';
import type { ImageGenerationStatus } from '../db/types';
import type { MediaStore } from '../lib/media/store';
import { zipStored } from '../lib/media/zip';
import { REPLICATE } from '../providers/replicate';
import { FailureType } from '../schemas/failures';
import type { ProviderJobUpdate, SubmittedProviderJob } from '../schemas/provider-jobs';
import { nonRetryable } from './common';
import type { ActivityDeps } from './deps';
import { submitProviderJobOnce } from './provider-jobs';
import { inTransactionWithEvents, isoOrNull } from './webhook-events';

/** A stable seed per image, so a retried prediction asks for the same picture. */
const seedOf = (generationId: string, position: number) =>
  createHash('sha256').update(`${generationId}:${position}`).digest().readUInt32BE(0) >>> 1;

/** Row writes of the SSELFIE runs (main queue). */
export function createSselfieActivities(deps: ActivityDeps) {
  const { db, providers } = deps;

  async function requireGeneration(generationId: string) {
    const generation = await findImageGeneration(db, generationId);
    if (!generation) throw nonRetryable(`image generation ${generationId} not found`, FailureType.NotFound);
    if (!generation.replicate_version_id)
      throw nonRetryable(`the model of generation ${generationId} has no trained version`, FailureType.InvalidInput);
    return { ...generation, versionId: generation.replicate_version_id };
  }

  return {
    async recordTrainingUpdate(input: { modelId: string; update: ProviderJobUpdate }): Promise<void> {
      await recordTrainingProgress(db, input.modelId, input.update.progress, input.update.etaSeconds);
    },

    /** Reads the finished training's new version and weights, and makes the model the user's active one. */
    async completeModelTraining(input: { modelId: string; trainingId: string }): Promise<{ versionId: string }> {
      const training = await providers.replicate.getTraining(input.trainingId);
      const version = training?.output?.version;
      const weights = training?.output?.weights;
      if (training?.status !== 'succeeded' || !version || !weights)
        throw nonRetryable(`replicate training ${input.trainingId} has no trained version`, FailureType.ProviderJobFailed);
      const versionId = version.includes(':') ? version.split(':')[1]! : version;
      await inTransactionWithEvents(deps, async (tx, emit) => {
        await completeTrainingRun(tx, input.modelId, { versionId, weightsUrl: weights });
        const model = await findTrainingRun(tx, input.modelId);
        if (!model) return;
        // A model is trained once: its id is the fact key, so a retry re-finds the same event.
        await emit({
          type: 'model.trained',
          userId: model.user_id,
          factKey: model.id,
          data: {
            modelId: model.id,
            modelName: model.model_name,
            triggerWord: model.trigger_word,
            versionId,
            completedAt: isoOrNull(model.completed_at),
          },
        });
      });
      return { versionId };
    },

    async endModelTraining(input: { modelId: string; status: 'failed' | 'canceled'; reason: string }): Promise<void> {
      await endTrainingRun(db, input.modelId, input.status, input.reason);
    },

    /** The generation's image rows with their seeds (created on the first call). */
    async prepareImageGeneration(input: { generationId: string }): Promise<Array<{ position: number; seed: number }>> {
      const generation = await requireGeneration(input.generationId);
      const seeds = Array.from({ length: generation.image_count }, (_, position) => seedOf(generation.id, position));
      return ensureImageRows(
        db,
        { id: generation.id, userId: generation.user_id, prompt: generation.prompt, style: generation.style },
        seeds,
      );
    },

    /** One prediction per image on the user's trained version, created once per (generation, position). */
    async startImagePrediction(input: {
      generationId: string;
      position: number;
      seed: number;
      workflowId: string;
    }): Promise<SubmittedProviderJob> {
      const generation = await requireGeneration(input.generationId);
      const prompt = [`a photo of ${generation.trigger_word}`, generation.prompt, generation.style && `${generation.style} style`]
        .filter(Boolean)
        .join(', ');
      const job = await submitProviderJobOnce(
        db,
        {
          provider: REPLICATE,
          idempotencyKey: `prediction:${input.generationId}:${input.position}`,
          workflowId: input.workflowId,
          kind: 'prediction',
        },
        () =>
          providers.replicate.createPrediction({
            version: generation.versionId,
            input: { prompt, seed: input.seed, num_outputs: 1, output_format: 'png' },
          }),
      );
      await recordImagePrediction(db, input.generationId, input.position, job.jobId);
      return job;
    },

    async failGeneratedImage(input: { generationId: string; position: number; reason: string }): Promise<void> {
      await failImage(db, input.generationId, input.position, input.reason);
    },

    async endImageGeneration(input: { generationId: string; status: ImageGenerationStatus; reason: string | null }): Promise<void> {
      await endImageGeneration(db, input.generationId, input.status, input.reason);
    },
  };
}

export interface SselfieMediaActivityDeps extends ActivityDeps {
  mediaStore: MediaStore;
  /** Where temporary files go (always removed); default os.tmpdir(). */
  tempRoot?: string;
}

/** Work with media files (media queue, where the media store lives): the training zip and the generated images. */
export function createSselfieMediaActivities(deps: SselfieMediaActivityDeps) {
  const { db, providers, mediaStore, logger } = deps;
  const tempRoot = deps.tempRoot ?? tmpdir();

  async function withTempDir<T>(work: (dir: string) => Promise<T>): Promise<T> {
    const dir = await mkdtemp(join(tempRoot, 'sselfie-'));
    try {
      return await work(dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  return {
    /**
     * Creates the training once per model (provider_jobs keyed `training:<modelId>`): the
     * destination model, the selfies zipped and uploaded to Replicate, then the training.
     */
    async startModelTraining(input: { modelId: string; workflowId: string }): Promise<SubmittedProviderJob> {
      const training = await findTrainingRun(db, input.modelId);
      if (!training) throw nonRetryable(`model ${input.modelId} not found`, FailureType.NotFound);
      const destination = `${providers.replicate.modelOwner}/sselfie-${input.modelId}` as const;
      const job = await submitProviderJobOnce(
        db,
        { provider: REPLICATE, idempotencyKey: `training:${input.modelId}`, workflowId: input.workflowId, kind: 'training' },
        async () => {
          const selfies = await trainingSelfies(db, input.modelId);
          const zip = await withTempDir(async (dir) =>
            zipStored(
              await Promise.all(
                selfies.map(async (selfie) => ({
                  name: `${String(selfie.position).padStart(2, '0')}${selfie.media_key.slice(selfie.media_key.lastIndexOf('.'))}`,
                  bytes: await readFile(await mediaStore.localCopy({ url: selfie.image_url }, await mkdtemp(join(dir, 'selfie-')))),
                })),
              ),
            ),
          );
          const [owner, name] = destination.split('/') as [string, string];
          await providers.replicate.ensureModel(owner, name);
          const imagesUrl = await providers.replicate.uploadFile(zip, `${input.modelId}.zip`, 'application/zip');
          return providers.replicate.createTraining({
            destination,
            input: { input_images: imagesUrl, trigger_word: training.trigger_word },
          });
        },
      );
      await recordTrainingSubmitted(db, input.modelId, { replicateModelId: destination, trainingId: job.jobId });
      return job;
    },

    /**
     * Downloads a delivered image from the provider and stores it (repeatable: same key,
     * overwritten); the completed row and image.generated (one per image row) commit together.
     */
    async storeGeneratedImage(input: { generationId: string; position: number; outputUrl: string }): Promise<{ imageUrl: string }> {
      const key = `sselfie/images/${input.generationId}/${input.position}.png`;
      const stored = await withTempDir(async (dir) => {
        // The URL is the provider's own output (Replicate's delivery host), not user input.
        const res = await fetch(input.outputUrl, { signal: AbortSignal.timeout(60_000) });
        if (res.status === 404) throw nonRetryable(`the generated image is gone: ${input.outputUrl}`, FailureType.ProviderJobLost);
        if (!res.ok) throw new Error(`downloading the generated image failed with HTTP ${res.status}`);
        const file = join(dir, 'image.png');
        await writeFile(file, Buffer.from(await res.arrayBuffer()));
        return mediaStore.put(key, file, 'image');
      });
      await inTransactionWithEvents(deps, async (tx, emit) => {
        const image = await completeImage(tx, input.generationId, input.position, { imageUrl: stored.url, mediaKey: stored.key });
        if (!image) return;
        await emit({
          type: 'image.generated',
          userId: image.user_id,
          factKey: image.id,
          data: {
            imageId: image.id,
            source: 'generation',
            generationId: input.generationId,
            photoshootId: null,
            gridPosition: null,
            position: input.position,
            imageUrl: stored.url,
            width: null,
            height: null,
          },
        });
      });
      logger.info({ generationId: input.generationId, position: input.position, bytes: stored.bytes }, 'generated image stored');
      return { imageUrl: stored.url };
    },
  };
}

export type SselfieActivities = ReturnType<typeof createSselfieActivities>;
export type SselfieMediaActivities = ReturnType<typeof createSselfieMediaActivities>;
