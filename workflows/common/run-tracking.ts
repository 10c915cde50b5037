import {
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { RunActivities } from '../../activities/runs';
import type { RunError, RunProgress, RunStatus } from '../../schemas/runs';
import { progressQuery } from './progress';

const runs = proxyActivities<RunActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '500 milliseconds', maximumInterval: '10 seconds' },
});

/** Live progress of one run: answers the `progress` query and mirrors stage changes into job_runs. */
export class RunTracker {
  private state: RunProgress = { stage: 'queued', progress: 0, counters: {} };

  constructor() {
    setHandler(progressQuery, () => this.state);
  }

  get current(): RunProgress {
    return this.state;
  }

  /** Sets the stage and progress (never moving backwards) and persists them. */
  async stage(stage: string, progress: number, counters?: Record<string, number>): Promise<void> {
    this.state = {
      stage,
      progress: Math.max(this.state.progress, Math.min(100, Math.round(progress))),
      counters: { ...this.state.counters, ...counters },
    };
    await runs.recordRunProgress(workflowInfo().workflowId, { stage: this.state.stage, progress: this.state.progress });
  }

  /** Updates counters without a persisted write (cheap, query-visible). */
  count(name: string, delta = 1): void {
    this.state.counters[name] = (this.state.counters[name] ?? 0) + delta;
  }
}

function describeError(err: unknown): RunError {
  if (err instanceof ApplicationFailure) return { type: err.type ?? 'ApplicationFailure', message: err.message };
  const cause = (err as { cause?: unknown }).cause;
  if (cause instanceof ApplicationFailure) return { type: cause.type ?? 'ApplicationFailure', message: cause.message };
  return { type: (err as Error)?.name ?? 'Error', message: (err as Error)?.message ?? String(err) };
}

export interface TrackedRun {
  type: string;
  userId: string | null;
  domainId?: string;
}

/**
 * Runs a workflow body with its job_runs row kept true: registered at start, closed with the
 * result, the typed error or the cancellation. The body's own error is rethrown unchanged.
 */
export async function trackRun<T>(run: TrackedRun, body: (tracker: RunTracker) => Promise<T>): Promise<T> {
  const tracker = new RunTracker();
  const id = workflowInfo().workflowId;
  await runs.recordRunStarted({ id, type: run.type, userId: run.userId, domainId: run.domainId ?? null });
  try {
    const result = await body(tracker);
    await runs.recordRunClosed(id, { status: 'completed', stage: 'done', result });
    tracker.current.stage = 'done';
    tracker.current.progress = 100;
    return result;
  } catch (err) {
    const status: RunStatus = isCancellation(err) ? 'canceled' : 'failed';
    // Closing must still be recorded when the workflow itself was cancelled.
    await CancellationScope.nonCancellable(() =>
      runs.recordRunClosed(id, { status, stage: tracker.current.stage, error: describeError(err) }),
    );
    throw err;
  }
}
