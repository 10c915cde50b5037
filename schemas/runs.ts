import { z } from 'zod';

export const RUN_STATUSES = ['running', 'completed', 'failed', 'canceled', 'terminated', 'timed_out'] as const;
export const RunStatusSchema = z.enum(RUN_STATUSES);
export type RunStatus = z.infer<typeof RunStatusSchema>;

/** What every workflow exposes through its `progress` query. */
export const RunProgressSchema = z.object({
  stage: z.string(),
  progress: z.number().int().min(0).max(100),
  counters: z.record(z.string(), z.number()).default({}),
});
export type RunProgress = z.infer<typeof RunProgressSchema>;

/**
 * The domain status row a run's progress is mirrored into, written with job_runs in one
 * transaction: `videos.progress` of an import, `thumbnail_generation_jobs` progress and style.
 */
export const DomainProgressRowSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('video'), videoId: z.string() }),
  z.object({ kind: z.literal('thumbnail_job'), jobId: z.string(), currentStyle: z.string().nullable() }),
]);
export type DomainProgressRow = z.infer<typeof DomainProgressRowSchema>;

/** One progress write of a run: its stage and progress, and the domain row that mirrors them. */
export interface RunProgressWrite {
  stage: string;
  progress: number;
  row?: DomainProgressRow;
}

export interface RunError {
  type: string;
  message: string;
}
