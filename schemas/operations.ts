import { z } from 'zod';

/** POST /v1/admin/runs/redrive and `npm run ops -- redrive`: which failed runs to start again. */
export const RedriveBodySchema = z
  .object({
    type: z.string().min(1).max(50).describe('job type (job_runs.type / JobType), e.g. video-import'),
    errorType: z.string().min(1).max(100).optional().describe('only runs that failed with this failure type (job_runs.error_type)'),
    from: z.iso.datetime({ offset: true }).describe('runs that failed at or after this instant'),
    to: z.iso.datetime({ offset: true }).describe('… and before this one'),
    dryRun: z.boolean().default(false).describe('list what would be restarted, start nothing'),
    limit: z.number().int().min(1).max(500).default(100).describe('at most this many failed runs, oldest failure first'),
    startsPerSecond: z.number().min(0.1).max(50).default(5).describe('throttle: runs started per second'),
  })
  .strict()
  .meta({ id: 'RedriveBody' });
export type RedriveBody = z.infer<typeof RedriveBodySchema>;

export const RedriveReportSchema = z
  .object({
    dryRun: z.boolean(),
    matched: z.number().int().describe('failed runs found by the filter (at most `limit`)'),
    more: z.boolean().describe('more failed runs match beyond `limit`: redrive again'),
    restarted: z
      .array(
        z.object({
          runId: z.string().describe('the workflow id (job_runs id): a redriven run keeps it'),
          old: z.string().describe('Temporal run id of the failed execution'),
          new: z.string().nullable().describe('Temporal run id of the new execution (null in a dry run)'),
        }),
      )
      .describe('runs started again with their original input (in a dry run: the runs that would be)'),
    skipped: z.array(z.object({ runId: z.string(), reason: z.string() })),
  })
  .meta({ id: 'RedriveReport' });
export type RedriveReport = z.infer<typeof RedriveReportSchema>;

/** Tables the retention sweep prunes, in the order it visits them. */
export const RETENTION_TABLES = ['job_runs', 'idempotency_keys', 'webhook_logs', 'ai_usage_logs', 'usage_events', 'audit_log'] as const;
export type RetentionTable = (typeof RETENTION_TABLES)[number];

/** How old a row may grow before the retention sweep deletes it, per table, and rows per DELETE statement. */
export interface RetentionPolicy {
  maxAgeSeconds: Record<RetentionTable, number>;
  batchSize: number;
}

export type RetentionResult = Record<RetentionTable, number>;

/** A tenant's cost in the current usage period (subscription period, else the calendar month, UTC). */
export const UsagePeriodSchema = z
  .object({
    start: z.string(),
    end: z.string(),
    runs: z
      .array(z.object({ type: z.string(), status: z.string(), count: z.number().int() }))
      .describe('runs started in the period, by job type and status'),
    ai: z.object({
      requests: z.number(),
      inputTokens: z.number(),
      outputTokens: z.number(),
      tokens: z.number(),
      costUsd: z.number(),
    }),
    youtubeUnits: z.number().describe('YouTube Data API quota units spent by your runs'),
    ffmpegCpuSeconds: z.number().describe('user + system CPU seconds of the ffmpeg processes of your runs'),
    storageBytes: z.number().describe('bytes of media your runs stored in the period'),
    counters: z
      .object({
        videosProcessed: z.number(),
        contentGenerated: z.number(),
        clipsGenerated: z.number(),
        postsPublished: z.number(),
        apiCallsMade: z.number(),
        storageUsedMb: z.number(),
        processingMinutes: z.number(),
      })
      .describe("the period's subscription_usage counters"),
  })
  .meta({ id: 'UsagePeriod' });
export type UsagePeriod = z.infer<typeof UsagePeriodSchema>;
