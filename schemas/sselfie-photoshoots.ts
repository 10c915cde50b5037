import { z } from 'zod';
import { nonBlankText } from './common';
import { IMAGE_STYLES, type ProviderPolling } from './sselfie';

/** Credits one photoshoot grid costs (9 frames), and one animation. */
export const PHOTOSHOOT_GRID_CREDIT_COST = 5;
export const ANIMATION_CREDIT_COST = 3;
/** Frames per grid: the model draws a 3×3 contact sheet. */
export const GRID_COLUMNS = 3;
export const GRID_ROWS = 3;
export const FRAMES_PER_GRID = GRID_COLUMNS * GRID_ROWS;
export const MAX_PHOTOSHOOT_STYLES = 9;

/** POST /v1/photoshoots: one grid per style (a style may repeat: each grid has its own seed). */
export const CreatePhotoshootBodySchema = z
  .object({ styles: z.array(z.enum(IMAGE_STYLES)).min(1).max(MAX_PHOTOSHOOT_STYLES) })
  .meta({ id: 'CreatePhotoshootBody' });

export const PhotoshootStartedSchema = z
  .object({ sessionId: z.uuid(), runId: z.string(), statusUrl: z.string() })
  .meta({ id: 'PhotoshootStarted' });

export const PhotoshootStatusSchema = z.enum(['pending', 'generating', 'completed', 'partially_completed', 'failed', 'canceled']);

export const PhotoshootViewSchema = z
  .object({
    id: z.uuid(),
    status: PhotoshootStatusSchema,
    /** Share of the grids that ended (delivered or failed), 0–100. */
    progress: z.number().int(),
    gridCount: z.number().int(),
    gridsCompleted: z.number().int(),
    gridsFailed: z.number().int(),
    failureReason: z.string().nullable(),
    runId: z.string(),
    createdAt: z.string(),
    completedAt: z.string().nullable(),
    grids: z
      .array(
        z.object({
          position: z.number().int(),
          style: z.string(),
          status: z.enum(['pending', 'generating', 'completed', 'failed']),
          failureReason: z.string().nullable(),
          frames: z.array(
            z.object({ position: z.number().int(), imageUrl: z.string(), width: z.number().int(), height: z.number().int() }),
          ),
        }),
      )
      .optional(),
  })
  .meta({ id: 'Photoshoot' });
export type PhotoshootView = z.infer<typeof PhotoshootViewSchema>;

/** POST /v1/images/:id/animate: how the picture should move (a prompt for the image-to-video model). */
export const AnimateImageBodySchema = z.object({ motion: nonBlankText(300).optional() }).meta({ id: 'AnimateImageBody' });

export const AnimationStartedSchema = z
  .object({ videoId: z.uuid(), runId: z.string(), statusUrl: z.string() })
  .meta({ id: 'AnimationStarted' });

export const AnimationViewSchema = z
  .object({
    id: z.uuid(),
    imageId: z.uuid(),
    motion: z.string().nullable(),
    status: z.enum(['pending', 'generating', 'completed', 'failed', 'canceled']),
    videoUrl: z.string().nullable(),
    bytes: z.number().int().nullable(),
    failureReason: z.string().nullable(),
    runId: z.string(),
    createdAt: z.string(),
    completedAt: z.string().nullable(),
  })
  .meta({ id: 'Animation' });

// ---- workflow inputs and results ----------------------------------------------------------------

export interface PhotoshootInput {
  sessionId: string;
  userId: string;
  gridCount: number;
  mediaTaskQueue: string;
  polling: ProviderPolling;
}

export interface PhotoshootResult {
  sessionId: string;
  gridsCompleted: number;
  gridsFailed: number;
}

export interface PhotoshootGridInput {
  sessionId: string;
  position: number;
  mediaTaskQueue: string;
  polling: ProviderPolling;
}

export interface PhotoshootGridResult {
  frames: number;
}

export interface AnimationInput {
  videoId: string;
  userId: string;
  mediaTaskQueue: string;
  polling: ProviderPolling;
}

export interface AnimationResult {
  videoId: string;
  videoUrl: string;
}
