import { z } from 'zod';
import { RunStartedSchema } from './api-runs';
import { nonBlankText, withoutRepeats } from './common';

// ---- Vocabulary -----------------------------------------------------------------------------

export const THUMBNAIL_ASPECT_RATIOS = ['16:9', '9:16'] as const;
export const ThumbnailAspectRatioSchema = z.enum(THUMBNAIL_ASPECT_RATIOS);
export type ThumbnailAspectRatio = z.infer<typeof ThumbnailAspectRatioSchema>;

/** Keys of thumbnail_styles, thumbnail_expressions and thumbnail_content_categories. */
export const ThumbnailKeySchema = z.string().regex(/^[a-z][a-z0-9_]{0,49}$/, 'a key such as bold_contrast');

export const THUMBNAIL_JOB_STATUSES = ['pending', 'processing', 'completed', 'completed_with_errors', 'failed', 'canceled'] as const;
export type ThumbnailJobStatus = (typeof THUMBNAIL_JOB_STATUSES)[number];

// ---- API bodies and params ------------------------------------------------------------------

export const CreateThumbnailsBodySchema = z
  .object({
    topic: nonBlankText(255),
    subTopic: nonBlankText(255).optional(),
    expression: ThumbnailKeySchema.describe('a thumbnail_expressions key, e.g. shocked'),
    aspectRatio: ThumbnailAspectRatioSchema.describe('16:9 renders 1280×720, 9:16 renders 720×1280'),
    contentCategory: ThumbnailKeySchema.optional().describe('a thumbnail_content_categories key, e.g. education'),
    styles: withoutRepeats(z.array(ThumbnailKeySchema).min(1).max(20), 'styles')
      .optional()
      .describe('thumbnail_styles keys; default: every active style'),
    referenceImageIds: withoutRepeats(z.array(z.uuid()).max(10), 'referenceImageIds').optional(),
    characterProfileId: z.uuid().optional(),
  })
  .strict()
  .meta({ id: 'CreateThumbnailsBody' });
export type CreateThumbnailsBody = z.infer<typeof CreateThumbnailsBodySchema>;

export const RefineThumbnailBodySchema = z
  .object({ instruction: nonBlankText(1000).describe('what to change, e.g. "shorter text, more red"') })
  .strict()
  .meta({ id: 'RefineThumbnailBody' });

export const SelectThumbnailBodySchema = z
  .object({ uploadToYouTube: z.boolean().optional().describe("also set it as the YouTube video's thumbnail (needs a connected channel)") })
  .strict()
  .meta({ id: 'SelectThumbnailBody' });

export const ThumbnailJobParamSchema = z.object({ jobId: z.uuid() });

// ---- API responses --------------------------------------------------------------------------

export const ThumbnailJobStartedSchema = RunStartedSchema.extend({ jobId: z.uuid() }).meta({ id: 'ThumbnailJobStarted' });

export const ThumbnailRefineStartedSchema = RunStartedSchema.extend({
  jobId: z.uuid(),
  parentThumbnailId: z.uuid(),
  version: z.number().int().positive().describe('the version this run writes'),
}).meta({ id: 'ThumbnailRefineStarted' });

export const ThumbnailViewSchema = z
  .object({
    id: z.uuid(),
    videoId: z.uuid(),
    jobId: z.uuid().nullable(),
    style: z.string(),
    aspectRatio: ThumbnailAspectRatioSchema,
    url: z.string(),
    width: z.number().int().nullable(),
    height: z.number().int().nullable(),
    format: z.string(),
    bytes: z.number().int().nullable(),
    overlayText: z.string().nullable(),
    version: z.number().int(),
    parentThumbnailId: z.uuid().nullable(),
    refinementInstruction: z.string().nullable(),
    isSelected: z.boolean(),
    isUploadedToYoutube: z.boolean(),
    createdAt: z.string(),
  })
  .meta({ id: 'Thumbnail' });
export type ThumbnailView = z.infer<typeof ThumbnailViewSchema>;

export const ThumbnailJobViewSchema = z
  .object({
    id: z.uuid(),
    videoId: z.uuid(),
    runId: z.string().nullable(),
    status: z.enum(THUMBNAIL_JOB_STATUSES),
    progress: z.number().int().min(0).max(100),
    currentStyle: z.string().nullable(),
    retryCount: z.number().int().describe('style attempts that were retries'),
    errorMessage: z.string().nullable(),
    topic: z.string(),
    aspectRatio: ThumbnailAspectRatioSchema,
    styles: z.array(z.string()).describe('requested styles; empty = every active style'),
    thumbnailsRequested: z.number().int(),
    thumbnailsGenerated: z.number().int(),
    createdAt: z.string(),
    completedAt: z.string().nullable(),
    thumbnails: z.array(ThumbnailViewSchema),
  })
  .meta({ id: 'ThumbnailJob' });
export type ThumbnailJobView = z.infer<typeof ThumbnailJobViewSchema>;

export const ThumbnailSelectedSchema = z
  .object({
    thumbnail: ThumbnailViewSchema,
    upload: RunStartedSchema.optional().describe('the YouTube upload run, when uploadToYouTube was asked'),
  })
  .meta({ id: 'ThumbnailSelected' });

// ---- Workflow contract ----------------------------------------------------------------------

export interface ThumbnailRefinement {
  parentThumbnailId: string;
  instruction: string;
}

/** Everything else (topic, expression, styles...) is read from the job row: ids only in history. */
export interface ThumbnailsInput {
  jobId: string;
  userId: string;
  videoId: string;
  /** Version the produced rows get: 1 for a new job, parent's lineage + 1 for a refinement. */
  version: number;
  refinement?: ThumbnailRefinement;
  /** The media worker's task queue (renders are CPU-bound and run there). */
  mediaTaskQueue: string;
}

export interface ThumbnailJobPlan {
  /** Style keys to render, in generation order. */
  styles: string[];
}

/** The text layout the AI chose; every field is checked and defaults to the style's design. */
export const ThumbnailLayoutSpecSchema = z.object({
  position: z.enum(['top', 'center', 'bottom']),
  align: z.enum(['left', 'center', 'right']),
  uppercase: z.boolean(),
  /** Multiplier of the default font size (12 % of the short side). */
  fontScale: z.number().min(0.6).max(1.5),
  textColor: z.string().regex(/^#[0-9a-fA-F]{6}$/),
  strokeColor: z.string().regex(/^#[0-9a-fA-F]{6}$/),
  /** A coloured box behind the text instead of an outline. */
  box: z.boolean(),
  boxColor: z.string().regex(/^#[0-9a-fA-F]{6}$/),
  gradient: z.enum(['vertical', 'horizontal', 'diagonal']),
});
export type ThumbnailLayoutSpec = z.infer<typeof ThumbnailLayoutSpecSchema>;

export interface ThumbnailCopy {
  overlayText: string;
  layout: ThumbnailLayoutSpec;
}

export interface RenderThumbnailInput {
  jobId: string;
  style: string;
  generationOrder: number;
  version: number;
  copy: ThumbnailCopy;
  refinement?: ThumbnailRefinement;
}

export interface RenderedThumbnail {
  thumbnailId: string;
  style: string;
  width: number;
  height: number;
  bytes: number;
  format: 'png' | 'jpg';
}

export type ThumbnailJobEnding = 'finished' | 'failed' | 'canceled';

export interface ThumbnailJobSettlement {
  status: ThumbnailJobStatus;
  produced: number;
  /** Whether the reserved iteration was charged (something was produced) or given back. */
  charged: boolean;
}

export interface ThumbnailsResult {
  jobId: string;
  status: ThumbnailJobStatus;
  thumbnails: RenderedThumbnail[];
  failedStyles: Array<{ style: string; error: string }>;
  charged: boolean;
}

export interface ThumbnailYoutubeInput {
  thumbnailId: string;
  userId: string;
}
