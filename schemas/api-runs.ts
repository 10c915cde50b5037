import { z } from 'zod';
import { CursorSchema, PageLimitSchema } from './common';
import { RunStatusSchema } from './runs';

/** One run as clients see it, whatever the workflow behind it. */
export const RunViewSchema = z
  .object({
    id: z.string().describe('readable Temporal workflow id, e.g. smoke:<uuid>'),
    type: z.string(),
    status: RunStatusSchema,
    stage: z.string(),
    progress: z.number().int().min(0).max(100),
    counters: z.record(z.string(), z.number()).optional(),
    startedAt: z.string(),
    closedAt: z.string().nullable(),
    result: z.unknown().optional(),
    error: z.object({ type: z.string(), message: z.string() }).optional(),
  })
  .meta({ id: 'Run' });
export type RunView = z.infer<typeof RunViewSchema>;

export const RunListQuerySchema = z
  .object({
    type: z
      .string()
      .max(50)
      .optional()
      .describe(
        'only runs of this job type: smoke, video_import, content_regenerate, thumbnails, thumbnail_youtube_upload, clips, post, subscription',
      ),
    status: RunStatusSchema.optional(),
    cursor: CursorSchema,
    limit: PageLimitSchema,
  })
  .strict();

export const RunListSchema = z.object({ data: z.array(RunViewSchema), nextCursor: z.string().nullable() }).meta({ id: 'RunList' });

/** One event of GET /v1/runs/{runId}/events as an SSE parser yields it: its `data` is a Run as JSON. */
export const RunEventSchema = z
  .object({
    event: z.enum(['progress', 'closed']).describe('`progress` on every change, then one `closed` as the stream ends'),
    id: z.string().regex(/^\d+$/).describe('counts up per event; send the last one back as Last-Event-ID to resume'),
    data: z.string().meta({ contentMediaType: 'application/json', contentSchema: { $ref: '#/components/schemas/Run' } }),
  })
  .meta({ id: 'RunEvent' });

export const RunIdParamSchema = z.object({ runId: z.string().min(1).max(255) });

/** 202 body of every POST that starts a run. */
export const RunStartedSchema = z.object({ runId: z.string(), statusUrl: z.string(), eventsUrl: z.string() }).meta({ id: 'RunStarted' });
export type RunStarted = z.infer<typeof RunStartedSchema>;

export const RunCancelAcceptedSchema = z
  .object({ runId: z.string(), status: z.literal('cancel_requested') })
  .meta({ id: 'RunCancelAccepted' });
