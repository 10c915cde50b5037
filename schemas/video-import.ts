import { z } from 'zod';
import { RunStartedSchema } from './api-runs';
import { nonBlankText, withoutRepeats } from './common';

/** Formats content can be exported in; each has a renderer in activities/video-import/export-formats.ts. */
export const EXPORT_FORMATS = ['docx', 'pdf', 'txt', 'md'] as const;
export const ExportFormatSchema = z.enum(EXPORT_FORMATS);
export type ExportFormat = z.infer<typeof ExportFormatSchema>;

export const ContentTypeKeySchema = z.string().regex(/^[a-z][a-z0-9_]{0,49}$/, 'a content type key such as blog_post');

export const VideoExportRequestSchema = z
  .object({
    provider: z.literal('google_drive'),
    formats: withoutRepeats(z.array(ExportFormatSchema).min(1).max(EXPORT_FORMATS.length), 'formats'),
  })
  .strict();
export type VideoExportRequest = z.infer<typeof VideoExportRequestSchema>;

/** The 256 kB JSON body limit bounds this too; longer transcripts belong in an upload flow. */
export const MAX_SUPPLIED_TRANSCRIPT_CHARS = 200_000;

export const SuppliedTranscriptSchema = z
  .object({
    content: nonBlankText(MAX_SUPPLIED_TRANSCRIPT_CHARS),
    format: z.enum(['srt', 'vtt', 'text']).optional().describe('detected when omitted'),
    language: z
      .string()
      .regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$/)
      .optional(),
  })
  .strict();
export type SuppliedTranscript = z.infer<typeof SuppliedTranscriptSchema>;

export const VideoImportBodySchema = z
  .object({
    url: nonBlankText(2048).describe('a YouTube video URL (watch, youtu.be, shorts, embed or live form)'),
    contentTypes: withoutRepeats(z.array(ContentTypeKeySchema).min(1).max(50), 'contentTypes')
      .optional()
      .describe('content type keys to generate; default: every type the plan allows'),
    export: VideoExportRequestSchema.optional(),
    transcript: SuppliedTranscriptSchema.optional().describe("used when the video's own captions are not available to us"),
  })
  .strict()
  .meta({ id: 'VideoImportBody' });
export type VideoImportBody = z.infer<typeof VideoImportBodySchema>;

export const VideoImportStartedSchema = RunStartedSchema.extend({ videoId: z.uuid() }).meta({ id: 'VideoImportStarted' });

export const RegenerateContentBodySchema = z
  .object({ instructions: nonBlankText(2000).optional().describe('extra guidance for this version') })
  .strict()
  .meta({ id: 'RegenerateContentBody' });

export const RegenerateStartedSchema = RunStartedSchema.extend({
  videoId: z.uuid(),
  contentType: z.string(),
  version: z.number().int().positive().describe('the version this run writes'),
}).meta({ id: 'RegenerateStarted' });

export const VideoIdParamSchema = z.object({ id: z.uuid() });
export const VideoContentParamSchema = z.object({ id: z.uuid(), typeKey: ContentTypeKeySchema });
// Bounded by video_content.version, a PostgreSQL integer.
export const VideoContentQuerySchema = z.object({ version: z.coerce.number().int().positive().max(2_147_483_647).optional() }).strict();

/** YouTube imports end `completed`; ClipFlow's ingest goes pending → processing → transcribing → analyzing → ready. */
export const VIDEO_STATUSES = ['pending', 'processing', 'transcribing', 'analyzing', 'ready', 'completed', 'failed', 'canceled'] as const;

export const ContentSummarySchema = z.object({
  id: z.uuid(),
  contentType: z.string(),
  name: z.string(),
  version: z.number().int(),
  versions: z.number().int().describe('how many versions exist'),
  createdAt: z.string(),
});

export const VideoViewSchema = z
  .object({
    id: z.uuid(),
    sourceUrl: z.string().nullable(),
    youtubeVideoId: z.string().nullable(),
    title: z.string().nullable(),
    description: z.string().nullable(),
    channel: z.object({ id: z.string().nullable(), title: z.string().nullable() }),
    durationSeconds: z.number().int().nullable(),
    stats: z.object({ views: z.number().nullable(), likes: z.number().nullable(), comments: z.number().nullable() }),
    tags: z.array(z.string()),
    thumbnailUrl: z.string().nullable(),
    publishedAt: z.string().nullable(),
    transcriptSource: z.string().nullable(),
    transcriptWords: z.number().int().describe('words in the timed transcript (0 without one)'),
    language: z.string().nullable().describe('the language speech-to-text heard, else the one YouTube reports'),
    hasAudio: z.boolean().nullable().describe('null until the file has been probed'),
    processingStatus: z.enum(VIDEO_STATUSES),
    progress: z.number().int(),
    error: z.string().nullable(),
    runId: z.string().nullable().describe('the import run (YouTube imports) or the ingest run (uploads, URL and Drive imports)'),
    content: z.array(ContentSummarySchema).describe('latest version of each content type'),
    createdAt: z.string(),
  })
  .meta({ id: 'Video' });
export type VideoView = z.infer<typeof VideoViewSchema>;

export const VideoContentViewSchema = z
  .object({
    id: z.uuid(),
    videoId: z.uuid(),
    contentType: z.string(),
    version: z.number().int(),
    versions: z.array(z.number().int()),
    parentContentId: z.uuid().nullable(),
    content: z.string().nullable(),
    instructions: z.string().nullable(),
    aiProvider: z.string().nullable(),
    model: z.string().nullable(),
    tokensUsed: z.number().int().nullable(),
    generationDurationMs: z.number().int().nullable(),
    runId: z.string().nullable(),
    createdAt: z.string(),
  })
  .meta({ id: 'VideoContent' });
export type VideoContentView = z.infer<typeof VideoContentViewSchema>;

// ---- Workflow contracts (history payloads: ids and small values only) -------------------------

export interface VideoImportInput {
  videoId: string;
  userId: string;
  /** Requested content type keys; empty = every type the plan allows. */
  contentTypes: string[];
  export?: VideoExportRequest;
  /** The API reserved the video's quota slot with its row: the run adopts that reservation instead of taking another. */
  quotaReserved?: boolean;
}

export type QuotaGate = 'admin_grant' | 'free_tier' | 'plan';

/** What the quota gate decided, and what the effective plan allows. */
export interface QuotaReservation {
  gate: QuotaGate;
  plan: string;
  allowedContentTypes: string[];
  maxDurationSeconds: number;
}

export interface ExportOutcome {
  status: 'completed' | 'partial' | 'failed' | 'skipped';
  uploaded: number;
  failed: number;
  /** Why uploads failed or the export was skipped (e.g. revoked Google authorization). */
  reason?: string;
}

export interface VideoImportResult {
  videoId: string;
  generatedContentTypes: string[];
  failedContentTypes: string[];
  /** Content type key → video_content id of the version written. */
  contentIds: Record<string, string>;
  quota: 'committed' | 'released';
  export?: ExportOutcome;
}

export interface GenerateContentInput {
  videoId: string;
  userId: string;
  contentType: string;
  version: number;
  parentContentId: string | null;
  instructions?: string;
}

export interface GeneratedContent {
  contentId: string;
  contentType: string;
  version: number;
  tokensUsed: number;
}
