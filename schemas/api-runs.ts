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
    type: z.string().max(50).optional(),
    status: RunStatusSchema.optional(),
    cursor: CursorSchema,
    limit: PageLimitSchema,
  })
  .strict();

export const RunListSchema = z.object({ data: z.array(RunViewSchema), nextCursor: z.string().nullable() }).meta({ id: 'RunList' });

export const RunIdParamSchema = z.object({ runId: z.string().min(1).max(255) });

/** 202 body of every POST that starts a run. */
export const RunStartedSchema = z.object({ runId: z.string(), statusUrl: z.string(), eventsUrl: z.string() }).meta({ id: 'RunStarted' });
export type RunStarted = z.infer<typeof RunStartedSchema>;

export const RunCancelAcceptedSchema = z
  .object({ runId: z.string(), status: z.literal('cancel_requested') })
  .meta({ id: 'RunCancelAccepted' });
