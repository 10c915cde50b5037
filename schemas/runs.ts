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

export interface RunError {
  type: string;
  message: string;
}
