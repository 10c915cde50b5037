import { z } from 'zod';
import { RunStartedSchema } from './api-runs';
import { nonBlankText, withoutRepeats } from './common';

// ---- Vocabulary -----------------------------------------------------------------------------

export const CLIP_ASPECT_RATIOS = ['9:16', '1:1', '16:9'] as const;
export const ClipAspectRatioSchema = z.enum(CLIP_ASPECT_RATIOS);
export type ClipAspectRatio = z.infer<typeof ClipAspectRatioSchema>;

/** The media toolkit's caption styles (lib/media/captions.ts). */
export const CLIP_CAPTION_STYLES = ['bold', 'minimal', 'karaoke'] as const;
export const ClipCaptionStyleSchema = z.enum(CLIP_CAPTION_STYLES);
export type ClipCaptionStyle = z.infer<typeof ClipCaptionStyleSchema>;

export const CLIP_REVIEW_STATUSES = ['generated', 'edited', 'approved', 'rejected', 'published'] as const;
export const CLIP_RENDER_STATUSES = ['pending', 'rendering', 'completed', 'failed'] as const;
/** Which path chose a clip: the model's quotes, or deterministic windows on pauses and cue boundaries. */
export const CLIP_SELECTION_METHODS = ['model', 'pause_windows'] as const;
export type ClipSelectionMethod = (typeof CLIP_SELECTION_METHODS)[number];

export const CLIPS_DEFAULTS = { count: 3, aspectRatios: ['9:16'] as ClipAspectRatio[], minSeconds: 15, maxSeconds: 60 };

// ---- API bodies -----------------------------------------------------------------------------

export const CreateClipsBodySchema = z
  .object({
    count: z
      .number()
      .int()
      .min(1)
      .max(10)
      .optional()
      .describe(`clips to make; default ${CLIPS_DEFAULTS.count}, at most the plan's clips_per_video`),
    aspectRatios: withoutRepeats(z.array(ClipAspectRatioSchema).min(1).max(3), 'aspectRatios')
      .optional()
      .describe('one rendered file per ratio; default ["9:16"]'),
    captions: z
      .object({ style: ClipCaptionStyleSchema })
      .strict()
      .nullable()
      .optional()
      .describe('burned-in captions from the transcript word timings; default bold, null for none'),
    minSeconds: z.number().min(1).max(300).optional().describe(`shortest clip; default ${CLIPS_DEFAULTS.minSeconds}`),
    maxSeconds: z.number().min(1).max(300).optional().describe(`longest clip; default ${CLIPS_DEFAULTS.maxSeconds}`),
  })
  .strict()
  .refine((b) => (b.minSeconds ?? CLIPS_DEFAULTS.minSeconds) <= (b.maxSeconds ?? CLIPS_DEFAULTS.maxSeconds), {
    message: 'minSeconds must not exceed maxSeconds',
    path: ['minSeconds'],
  })
  .meta({ id: 'CreateClipsBody' });
export type CreateClipsBody = z.infer<typeof CreateClipsBodySchema>;

export const RejectClipBodySchema = z
  .object({ reason: nonBlankText(1000).optional() })
  .strict()
  .meta({ id: 'RejectClipBody' });

/** The multipart form of POST /v1/videos/upload, for the OpenAPI document (the route parses it itself). */
export const VideoUploadFormSchema = z
  .object({
    file: z.string().meta({ format: 'binary' }).describe('the video (mp4, mov, webm, mkv...); size and duration limited by the plan'),
    transcript: z.string().optional().describe('SRT or WebVTT text with the speech timings; needed for clips'),
    title: z.string().max(500).optional(),
    autoClips: z
      .string()
      .optional()
      .describe(
        'JSON text of AutoClips ({count, aspectRatios, minSeconds, maxSeconds, captions}): clips made as soon as the video is ready',
      ),
  })
  .meta({ id: 'VideoUploadForm' });

// ---- Workflow input, activity payloads, result ------------------------------------------------

export interface ClipsInput {
  videoId: string;
  userId: string;
  count: number;
  aspectRatios: ClipAspectRatio[];
  captionStyle: ClipCaptionStyle | null;
  minSeconds: number;
  maxSeconds: number;
  /** The media worker's task queue (renders are CPU-bound and run there). */
  mediaTaskQueue: string;
}

/** What the prepare step learned about the source. */
export interface ClipSource {
  durationSeconds: number;
  width: number;
  height: number;
  words: number;
}

export interface PickMomentsInput {
  videoId: string;
  userId: string;
  count: number;
  minSeconds: number;
  maxSeconds: number;
  durationSeconds: number;
  captionStyle: ClipCaptionStyle | null;
}

export interface PlannedClip {
  clipId: string;
  clipIndex: number;
  start: number;
  end: number;
  title: string;
}

export interface RenderClipInput {
  clipId: string;
  aspectRatios: ClipAspectRatio[];
  captionStyle: ClipCaptionStyle | null;
}

export interface RenderedClip {
  clipId: string;
  clipIndex: number;
  durationSeconds: number;
  fileUrls: Partial<Record<ClipAspectRatio, string>>;
  thumbnailUrl: string;
}

export interface ClipsResult {
  videoId: string;
  clips: RenderedClip[];
  failedClips: Array<{ clipId: string; clipIndex: number; error: string }>;
}

// ---- API views ------------------------------------------------------------------------------

export const ClipCaptionsViewSchema = z
  .object({
    language: z.string(),
    style: z.string(),
    srt: z.string().nullable(),
    vtt: z.string().nullable(),
    srtUrl: z.string().nullable(),
    vttUrl: z.string().nullable(),
  })
  .meta({ id: 'ClipCaptions' });

export const ClipViewSchema = z
  .object({
    id: z.uuid(),
    videoId: z.uuid(),
    runId: z.string(),
    clipIndex: z.number().int(),
    title: z.string().nullable(),
    startSeconds: z.number(),
    endSeconds: z.number(),
    durationSeconds: z.number(),
    scores: z.object({ hook: z.number().nullable(), virality: z.number().nullable(), engagement: z.number().nullable() }),
    topics: z.array(z.string()),
    selectionMethod: z
      .enum(CLIP_SELECTION_METHODS)
      .nullable()
      .describe("which path chose the clip: the model's quotes, or windows cut on pauses and cue boundaries"),
    transcript: z.string().nullable(),
    fileUrls: z.record(z.string(), z.string()).describe('rendered file per aspect ratio'),
    thumbnailUrl: z.string().nullable(),
    renderStatus: z.enum(CLIP_RENDER_STATUSES),
    renderError: z.string().nullable(),
    status: z.enum(CLIP_REVIEW_STATUSES).describe('review status (ClipFlow): generated → approved | rejected → published'),
    approvedAt: z.string().nullable(),
    rejectionReason: z.string().nullable(),
    captions: ClipCaptionsViewSchema.nullable(),
    createdAt: z.string(),
  })
  .meta({ id: 'Clip' });
export type ClipView = z.infer<typeof ClipViewSchema>;

export const ClipListSchema = z.object({ data: z.array(ClipViewSchema) }).meta({ id: 'ClipList' });

export const ClipsStartedSchema = RunStartedSchema.extend({ videoId: z.uuid() }).meta({ id: 'ClipsStarted' });

/** An upload is probed and stored in the request; `runId` is its ingest run (`ingest:<videoId>`), which finishes it. */
export const UploadedVideoSchema = RunStartedSchema.extend({
  videoId: z.uuid(),
  title: z.string().nullable(),
  durationSeconds: z.number(),
  width: z.number().int(),
  height: z.number().int(),
  hasAudio: z.boolean(),
  sizeBytes: z.number().int(),
  mimeType: z.string(),
  transcript: z.object({ source: z.string(), segments: z.number().int() }).nullable(),
}).meta({ id: 'UploadedVideo' });
export type UploadedVideo = z.infer<typeof UploadedVideoSchema>;
