import { z } from 'zod';
import { RunStartedSchema } from './api-runs';
import { CLIPS_DEFAULTS, ClipAspectRatioSchema, ClipCaptionStyleSchema, type ClipAspectRatio, type ClipCaptionStyle } from './clips';
import { withoutRepeats } from './common';
import type { ProviderPolling } from './sselfie';

/**
 * Video ingest (ClipFlow): a source video (upload, URL, Google Drive) becomes a ready video —
 * downloaded within the plan's size, probed, within the plan's length, transcribed, analysed — in
 * the `ingest:<videoId>` run, with the plan's monthly video slot reserved first and refunded on failure.
 */

/** Seed 004's stages of a source video, in order; `failed` ends any of them. */
export const INGEST_STAGES = ['pending', 'processing', 'transcribing', 'analyzing', 'ready'] as const;
export type IngestStage = (typeof INGEST_STAGES)[number];

/** Clips made as soon as the ingest is ready (the clips workflow, started by the ingest run). */
export const AutoClipsSchema = z
  .object({
    count: z.number().int().min(1).max(10).optional().describe(`clips to make; default ${CLIPS_DEFAULTS.count}`),
    aspectRatios: withoutRepeats(z.array(ClipAspectRatioSchema).min(1).max(3), 'autoClips.aspectRatios').optional(),
    minSeconds: z.number().min(1).max(300).optional(),
    maxSeconds: z.number().min(1).max(300).optional(),
    captions: z.object({ style: ClipCaptionStyleSchema }).strict().nullable().optional(),
  })
  .strict()
  .refine((b) => (b.minSeconds ?? CLIPS_DEFAULTS.minSeconds) <= (b.maxSeconds ?? CLIPS_DEFAULTS.maxSeconds), {
    message: 'minSeconds must not exceed maxSeconds',
    path: ['minSeconds'],
  })
  .meta({ id: 'AutoClips' });
export type AutoClips = z.infer<typeof AutoClipsSchema>;

/** Where the ingest reads the bytes from. An upload's bytes are in the media store before the run starts. */
export type IngestSource = { type: 'stored' } | { type: 'url'; url: string } | { type: 'drive'; driveFileId: string };

/** provider_jobs.kind of a video's speech-to-text transcript (idempotency key `transcript:<videoId>`). */
export const TRANSCRIPT_JOB_KIND = 'transcript';

/** The clips request an ingest chains into, resolved against the plan by the API. */
export interface IngestClipsRequest {
  count: number;
  aspectRatios: ClipAspectRatio[];
  captionStyle: ClipCaptionStyle | null;
  minSeconds: number;
  maxSeconds: number;
}

export interface IngestInput {
  videoId: string;
  userId: string;
  source: IngestSource;
  /** The media worker's task queue (download, ffprobe, audio extraction). */
  mediaTaskQueue: string;
  autoClips?: IngestClipsRequest;
  /** How often the speech-to-text job is polled when no webhook arrives (default: 2 s doubling to 2 min). */
  polling?: ProviderPolling;
}

/** What the download-and-probe step learned; the bytes themselves stay in the media store. */
export interface IngestedMedia {
  durationSeconds: number;
  width: number;
  height: number;
  hasAudio: boolean;
  sizeBytes: number;
}

export interface IngestResult {
  videoId: string;
  status: 'ready';
  durationSeconds: number;
  hasAudio: boolean;
  transcriptWords: number;
  language: string | null;
  /** Why speech-to-text did not run, when it did not. */
  transcriptSkipped: string | null;
  clipsRunId: string | null;
}

/** 202 of every intake path: the video row exists, its ingest runs. */
export const IngestStartedSchema = RunStartedSchema.extend({
  videoId: z.uuid(),
  status: z.enum(INGEST_STAGES),
}).meta({ id: 'IngestStarted' });
export type IngestStarted = z.infer<typeof IngestStartedSchema>;
