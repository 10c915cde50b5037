import { z } from 'zod';
import { RunStartedSchema } from './api-runs';
import { withoutRepeats } from './common';
import { ContentTypeKeySchema, ExportFormatSchema, VideoExportRequestSchema, type ExportFormat } from './video-import';

/** What one Google consent can be connected for: the user's YouTube channel (captions, uploads) and Drive (exports). */
export const GOOGLE_SERVICES = ['youtube', 'drive'] as const;
export const GoogleServiceSchema = z.enum(GOOGLE_SERVICES);
export type GoogleService = z.infer<typeof GoogleServiceSchema>;

export const StartGoogleConnectionBodySchema = z
  .object({
    services: withoutRepeats(z.array(GoogleServiceSchema).min(1).max(GOOGLE_SERVICES.length), 'services'),
    redirectUri: z
      .url({ protocol: /^https?$/, error: 'an http(s) URL' })
      .max(2048)
      .describe(
        "your page Google's consent screen sends the browser back to, with `code` and `state`; registered with the Google OAuth app",
      ),
  })
  .strict()
  .meta({ id: 'StartGoogleConnectionBody' });

export const GoogleConnectionStartedSchema = z
  .object({
    authorizationUrl: z.string().describe("Google's consent screen: send the user's browser there"),
    state: z.string().describe('one-time, bound to the caller, valid until expiresAt; the redirect carries it back'),
    expiresAt: z.string(),
  })
  .meta({ id: 'GoogleConnectionStarted' });

export const GoogleConnectionCallbackBodySchema = z
  .object({
    code: z.string().min(1).max(4096).describe('the `code` query parameter of the redirect'),
    state: z.string().min(1).max(256).describe('the `state` query parameter of the redirect'),
  })
  .strict()
  .meta({ id: 'GoogleConnectionCallbackBody' });

export const ConnectionViewSchema = z
  .object({
    id: z.uuid(),
    provider: z.literal('google'),
    services: z.array(GoogleServiceSchema),
    channel: z
      .object({
        id: z.string(),
        title: z.string().nullable(),
        autoImport: z.boolean().describe('new uploads are imported automatically (checked every 15 minutes)'),
        lastSyncedAt: z.string().nullable().describe('uploads published up to here have been looked at'),
      })
      .optional()
      .describe('the connected YouTube channel'),
    email: z.string().optional().describe('the Google account Drive exports go to'),
    status: z.enum(['active', 'expired']).describe('expired: Google refused the tokens (consent withdrawn or lapsed); connect again'),
    statusReason: z.string().nullable(),
    createdAt: z.string(),
  })
  .meta({ id: 'Connection' });
export type ConnectionView = z.infer<typeof ConnectionViewSchema>;

export const ConnectionVideosQuerySchema = z.object({ pageToken: z.string().max(200).optional() }).strict();

export const ChannelVideoSchema = z
  .object({
    id: z.string().describe('the YouTube video id'),
    title: z.string(),
    publishedAt: z.string().nullable(),
    durationSeconds: z.number().int().nullable(),
    imported: z.boolean(),
    videoId: z.uuid().nullable().describe('our video id once imported'),
  })
  .meta({ id: 'ChannelVideo' });
export type ChannelVideo = z.infer<typeof ChannelVideoSchema>;

export const ChannelVideosPageSchema = z
  .object({ videos: z.array(ChannelVideoSchema), nextPageToken: z.string().nullable() })
  .meta({ id: 'ChannelVideosPage' });

export const UpdateConnectionBodySchema = z
  .object({
    autoExport: VideoExportRequestSchema.nullable()
      .optional()
      .describe('export every finished import to Drive in these formats (user_preferences); null turns it off'),
    autoImport: z
      .boolean()
      .optional()
      .describe("import the channel's new uploads automatically (plans with YouTube auto-import, within the plan's channel limit)"),
  })
  .strict()
  .refine((body) => body.autoExport !== undefined || body.autoImport !== undefined, {
    message: 'name a setting to change: autoExport or autoImport',
  })
  .meta({ id: 'UpdateConnectionBody', minProperties: 1 });

export const VideoExportBodySchema = VideoExportRequestSchema.extend({
  contentTypes: withoutRepeats(z.array(ContentTypeKeySchema).min(1).max(50), 'contentTypes')
    .optional()
    .describe('default: every content type the video has'),
})
  .strict()
  .meta({ id: 'VideoExportBody' });
export type VideoExportBody = z.infer<typeof VideoExportBodySchema>;

export const VideoExportStartedSchema = RunStartedSchema.extend({ videoId: z.uuid() }).meta({ id: 'VideoExportStarted' });

export const VideoExportUploadSchema = z
  .object({
    id: z.uuid(),
    contentType: z.string(),
    format: ExportFormatSchema,
    fileName: z.string(),
    status: z.enum(['pending', 'uploading', 'completed', 'failed', 'canceled']),
    error: z.string().nullable(),
    retryCount: z.number().int(),
    maxRetries: z.number().int(),
    fileUrl: z.string().nullable(),
    folderPath: z.string().nullable(),
    completedAt: z.string().nullable(),
  })
  .meta({ id: 'VideoExportUpload' });
export type VideoExportUpload = z.infer<typeof VideoExportUploadSchema>;

export const VideoExportsSchema = z.object({ uploads: z.array(VideoExportUploadSchema) }).meta({ id: 'VideoExports' });

/** The export workflow's input: ids only; content and tokens are read by the activities. */
export interface VideoExportInput {
  videoId: string;
  userId: string;
  requestId: string;
  formats: ExportFormat[];
  contentTypes?: string[];
}
