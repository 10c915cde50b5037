import {
  CancellationScope,
  isCancellation,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { RunActivities } from '../../activities/runs';
import type { DomainProgressRow, RunProgress, RunStatus } from '../../schemas/runs';
import { describeFailure } from './failures';
import { progressQuery } from './progress';
import { databaseWrites } from './activity-options';

const runs = proxyActivities<RunActivities>(databaseWrites());

// A progress write is one short idempotent transaction, so it runs as a local activity: a marker
// in history instead of three events and a round trip through the server's task queues.
const progressWrites = proxyLocalActivities<RunActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '500 milliseconds', maximumInterval: '10 seconds' },
});

/**
 * Whether this run writes each stage change (and its domain row) as one local activity. Runs
 * recorded before the patch replay their old commands: a job_runs activity, then the domain row's own.
 */
export const writesProgressOnce = (): boolean => patched('one-write-progress');

/** Live progress of one run: answers the `progress` query and mirrors stage changes into job_runs. */
export class RunTracker {
  private state: RunProgress = { stage: 'queued', progress: 0, counters: {} };

  constructor() {
    setHandler(progressQuery, () => this.state);
  }

  get current(): RunProgress {
    return this.state;
  }

  /**
   * Sets the stage and progress (never moving backwards) and persists them with `row`, the domain
   * row mirroring them, in one write. Pass `row` only when writesProgressOnce(): older runs write it themselves.
   */
  async stage(stage: string, progress: number, counters?: Record<string, number>, row?: DomainProgressRow): Promise<void> {
    this.state = {
      stage,
      progress: Math.max(this.state.progress, Math.min(100, Math.round(progress))),
      counters: { ...this.state.counters, ...counters },
    };
    const write = { stage: this.state.stage, progress: this.state.progress };
    const id = workflowInfo().workflowId;
    if (writesProgressOnce()) await progressWrites.recordRunProgress(id, row ? { ...write, row } : write);
    else await runs.recordRunProgress(id, write);
  }

  /** Updates counters without a persisted write (cheap, query-visible). */
  count(name: string, delta = 1): void {
    this.state.counters[name] = (this.state.counters[name] ?? 0) + delta;
  }
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
      runs.recordRunClosed(id, { status, stage: tracker.current.stage, error: describeFailure(err) }),
    );
    throw err;
  }
}
