import type { Sinks } from '@temporalio/workflow';

/** Shared by the workflow interceptors (workflows/common/interceptors.ts) and the worker's (worker/interceptors.ts). */

/** The header carrying a run's log context to its activities. */
export const LOG_CONTEXT_HEADER = 'log-context';

/** What a run's memo keeps of the request that started it (api/workflow-starts.ts). */
export interface RunLogContext {
  requestId?: string;
  userId?: string;
}

export type RunOutcome = 'completed' | 'failed' | 'cancelled';

export interface RunMetricsSinks extends Sinks {
  runMetrics: {
    /** A run that is not the continuation of a previous one started. */
    started(): void;
    closed(outcome: RunOutcome): void;
  };
}
