import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  completeGeneratedVideo,
  completeGrid,
  endGeneratedVideo,
  endPhotoshootSession,
  failGrid,
  findGeneratedVideo,
  findPhotoshootGrid,
  recordGridPrediction,
  recordVideoPrediction,
} from '../db/repositories/sselfie-photoshoots';
import type { PhotoshootStatus } from '../db/types';
import { createMediaToolkit, type MediaToolkit } from '../lib/media';
import type { MediaStore } from '../lib/media/store';
import { REPLICATE } from '../providers/replicate';
import { FailureType } from '../schemas/failures';
import type { SubmittedProviderJob } from '../schemas/provider-jobs';
import { GRID_COLUMNS, GRID_ROWS } from '../schemas/sselfie-photoshoots';
import { mediaFailure } from './clips';
import { nonRetryable } from './common';
import type { ActivityDeps } from './deps';
import { submitProviderJobOnce } from './provider-jobs';
import { inTransactionWithEvents } from './webhook-events';

/** The provider_jobs idempotency key of a grid's prediction (one per grid, ever). */
const gridJobKey = (sessionId: string, position: number) => `photoshoot-grid:${sessionId}:${position}`;

/** Row writes of pro photoshoots and animations (main queue). */
export function createPhotoshootActivities(deps: ActivityDeps) {
  const { db, providers } = deps;
  return {
    /** The grid's prediction on the session's trained version: a 3×3 contact sheet in the grid's style, created once. */
    async startGridPrediction(input: { sessionId: string; position: number; workflowId: string }): Promise<SubmittedProviderJob> {
      const grid = await findPhotoshootGrid(db, input.sessionId, input.position);
      if (!grid) throw nonRetryable(`photoshoot ${input.sessionId} has no grid ${input.position}`, FailureType.NotFound);
      if (!grid.replicate_version_id)
        throw nonRetryable(`the model of photoshoot ${input.sessionId} has no trained version`, FailureType.InvalidInput);
      const prompt =
        `a 3x3 grid of 9 professional photos of ${grid.trigger_word}, ${grid.style} style, ` +
        'varied poses and angles, consistent lighting, thin white borders between frames';
      const job = await submitProviderJobOnce(
        db,
        {
          provider: REPLICATE,
          idempotencyKey: gridJobKey(input.sessionId, input.position),
          workflowId: input.workflowId,
          kind: 'prediction',
        },
        () =>
          providers.replicate.createPrediction({
            version: grid.replicate_version_id!,
            input: { prompt, seed: grid.seed, num_outputs: 1, aspect_ratio: '1:1', megapixels: '1', output_format: 'png' },
          }),
      );
      await recordGridPrediction(db, input.sessionId, input.position, job.jobId);
      return job;
    },

    async failPhotoshootGrid(input: { sessionId: string; position: number; reason: string }): Promise<void> {
      await failGrid(db, input.sessionId, input.position, input.reason);
    },

    async endPhotoshoot(input: { sessionId: string; status: PhotoshootStatus; reason: string | null }): Promise<void> {
      await endPhotoshootSession(db, input.sessionId, input.status, input.reason);
    },

    async endAnimation(input: { videoId: string; status: 'failed' | 'canceled'; reason: string }): Promise<void> {
      await endGeneratedVideo(db, input.videoId, input.status, input.reason);
    },
  };
}

export interface PhotoshootMediaActivityDeps extends ActivityDeps {
  mediaStore: MediaStore;
  media?: MediaToolkit;
  /** Where temporary files go (always removed); default os.tmpdir(). */
  tempRoot?: string;
}

/** Media work of photoshoots and animations (media queue, where the media store and ffmpeg are). */
export function createPhotoshootMediaActivities(deps: PhotoshootMediaActivityDeps) {
  const { db, providers, mediaStore, logger } = deps;
  const tempRoot = deps.tempRoot ?? tmpdir();
  let media = deps.media;
  const toolkit = () => (media ??= createMediaToolkit({ logger: logger.child({ component: 'media' }), tempRoot, metrics: deps.metrics }));

  async function withTempDir<T>(work: (dir: string) => Promise<T>): Promise<T> {
    const dir = await mkdtemp(join(tempRoot, 'photoshoot-'));
    try {
      return await work(dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** Downloads a provider's output (its own delivery URL, not user input) into `file`. */
  async function downloadOutput(url: string, file: string): Promise<void> {
    const res = await fetch(url, { signal: AbortSignal.timeout(120_000) });
    if (res.status === 404) throw nonRetryable(`the provider's output is gone: ${url}`, FailureType.ProviderJobLost);
    if (!res.ok) throw new Error(`downloading the provider's output failed with HTTP ${res.status}`);
    await writeFile(file, Buffer.from(await res.arrayBuffer()));
  }

  return {
    /**
     * The delivered contact sheet, stored and cut into its 9 frames with ffmpeg, each stored
     * with a row. Repeatable: the same media keys are overwritten and the rows upserted.
     */
    async storePhotoshootGrid(input: { sessionId: string; position: number; outputUrl: string }): Promise<{ frames: number }> {
      const grid = await findPhotoshootGrid(db, input.sessionId, input.position);
      if (!grid) throw nonRetryable(`photoshoot ${input.sessionId} has no grid ${input.position}`, FailureType.NotFound);
      const prefix = `sselfie/photoshoots/${input.sessionId}/${input.position}`;
      const frames = await withTempDir(async (dir) => {
        const sheet = join(dir, 'grid.png');
        await downloadOutput(input.outputUrl, sheet);
        const outputs = Array.from({ length: GRID_COLUMNS * GRID_ROWS }, (_, i) => join(dir, `frame-${i}.png`));
        const tiles = await toolkit()
          .splitGrid({ input: sheet, columns: GRID_COLUMNS, rows: GRID_ROWS, outputs })
          .catch((err: unknown) => {
            throw mediaFailure(err);
          });
        const storedSheet = await mediaStore.put(`${prefix}/grid.png`, sheet, 'image');
        const storedFrames = await Promise.all(
          tiles.map(async (tile, position) => {
            const stored = await mediaStore.put(`${prefix}/frame-${position}.png`, tile.path, 'image');
            return {
              sessionId: input.sessionId,
              position,
              imageUrl: stored.url,
              mediaKey: stored.key,
              width: tile.width,
              height: tile.height,
            };
          }),
        );
        // The frames and their image.generated events (one per frame row) commit together.
        await inTransactionWithEvents(deps, async (tx, emit) => {
          const rows = await completeGrid(tx, { id: grid.id, imageUrl: storedSheet.url, mediaKey: storedSheet.key }, storedFrames);
          for (const frame of rows)
            await emit({
              type: 'image.generated',
              userId: grid.user_id,
              factKey: frame.id,
              data: {
                imageId: frame.id,
                source: 'photoshoot',
                generationId: null,
                photoshootId: input.sessionId,
                gridPosition: input.position,
                position: frame.position,
                imageUrl: frame.image_url,
                width: frame.width,
                height: frame.height,
              },
            });
        });
        return storedFrames.length;
      });
      logger.info({ sessionId: input.sessionId, position: input.position, frames }, 'photoshoot grid stored');
      return { frames };
    },

    /**
     * The image-to-video prediction, created once per video (provider_jobs keyed `animation:<videoId>`):
     * the stored image is uploaded to Replicate's files (a URL it can read), then animated.
     */
    async startAnimationPrediction(input: { videoId: string; workflowId: string }): Promise<SubmittedProviderJob> {
      const video = await findGeneratedVideo(db, input.videoId);
      if (!video) throw nonRetryable(`animation ${input.videoId} not found`, FailureType.NotFound);
      if (!video.image_url) throw nonRetryable(`the image of animation ${input.videoId} was never delivered`, FailureType.InvalidInput);
      const imageUrl = video.image_url;
      const job = await submitProviderJobOnce(
        db,
        { provider: REPLICATE, idempotencyKey: `animation:${input.videoId}`, workflowId: input.workflowId, kind: 'prediction' },
        async () => {
          const bytes = await withTempDir(async (dir) => readFile(await mediaStore.localCopy({ url: imageUrl }, dir)));
          const image = await providers.replicate.uploadFile(bytes, `${input.videoId}.png`, 'image/png');
          return providers.replicate.createAnimation({
            image,
            prompt: video.motion ?? 'subtle natural motion, gentle camera push-in',
          });
        },
      );
      await recordVideoPrediction(db, input.videoId, job.jobId);
      return job;
    },

    /** Downloads the delivered mp4 and stores it (repeatable: same key, overwritten). */
    async storeAnimation(input: { videoId: string; outputUrl: string }): Promise<{ videoUrl: string }> {
      const stored = await withTempDir(async (dir) => {
        const file = join(dir, 'animation.mp4');
        await downloadOutput(input.outputUrl, file);
        const info = await toolkit()
          .probe(file)
          .catch((err: unknown) => {
            throw mediaFailure(err);
          });
        if (!info.hasVideo) throw nonRetryable(`the animation of ${input.videoId} has no video stream`, FailureType.ProviderJobFailed);
        return mediaStore.put(`sselfie/animations/${input.videoId}.mp4`, file, 'video');
      });
      await completeGeneratedVideo(db, input.videoId, { videoUrl: stored.url, mediaKey: stored.key, bytes: stored.bytes });
      logger.info({ videoId: input.videoId, bytes: stored.bytes }, 'animation stored');
      return { videoUrl: stored.url };
    },
  };
}

export type PhotoshootActivities = ReturnType<typeof createPhotoshootActivities>;
export type PhotoshootMediaActivities = ReturnType<typeof createPhotoshootMediaActivities>;
