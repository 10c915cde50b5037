import { z } from 'zod';
import { exactlyOneOf } from './common';
import { AutoClipsSchema } from './video-ingest';

/** POST /v1/videos/import-file: a source video for clips fetched from a URL or the user's Google Drive. */
export const VideoFileImportBodySchema = z
  .object({
    url: z
      .string()
      .max(2048)
      .optional()
      .describe('https URL of the video file itself (not a web page); private, loopback and link-local addresses are refused'),
    driveFileId: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,256}$/, 'a Google Drive file id')
      .optional()
      .describe('id of a video in the Google Drive connected to the account'),
    transcript: z
      .string()
      .optional()
      .describe(
        'SRT or WebVTT text with the speech timings; needed for clips. The JSON body is limited to 256 kB: send longer transcripts with POST /v1/videos/upload',
      ),
    title: z.string().max(500).optional().describe('default: the file name'),
    autoClips: AutoClipsSchema.optional().describe('clips made as soon as the video is ready'),
  })
  .strict()
  .refine((b) => (b.url === undefined) !== (b.driveFileId === undefined), {
    message: 'send exactly one of url or driveFileId',
    path: ['url'],
  })
  .meta({ id: 'VideoFileImportBody', ...exactlyOneOf('url', 'driveFileId') });
export type VideoFileImportBody = z.infer<typeof VideoFileImportBodySchema>;
