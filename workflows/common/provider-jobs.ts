import type { ActivityOptions, Duration } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import { ActivityFailure, ApplicationFailure, CancellationScope, condition, isCancellation, log, setHandler } from '@temporalio/workflow';
import { FailureType, PERMANENT_FAILURE_TYPES } from '../../schemas/failures';
import { isTerminalProviderJobStatus, type ProviderJobUpdate } from '../../schemas/provider-jobs';
import { providerJobUpdateSignal } from './provider-job-signal';

export { providerJobUpdateSignal };

/** How often a job is polled when no webhook arrives: growing from `initial` by `factor` up to `max`. */
export interface PollSchedule {
  initial: Duration;
  max: Duration;
  factor: number;
}

/** Seconds at first (most jobs end quickly), minutes later (a training takes tens of minutes). */
export const DEFAULT_POLL_SCHEDULE: PollSchedule = { initial: '2 seconds', max: '2 minutes', factor: 2 };

export interface AwaitProviderJob {
  provider: string;
  jobId: string;
  /** An activity reading the job's status; it throws `ProviderJobLost` (non-retryable) on 404. */
  poll: () => Promise<ProviderJobUpdate>;
  /** An activity cancelling the job at the provider; idempotent (a finished job is left alone). */
  cancel: () => Promise<void>;
  /** From the start of the wait: past it the job is cancelled and the wait fails `ProviderJobTimedOut`. */
  deadline: Duration;
  /** Called (awaited) whenever status, progress or ETA changed: record them on the domain row. */
  onUpdate?: (update: ProviderJobUpdate) => Promise<void>;
  /** Defaults to DEFAULT_POLL_SCHEDULE; the sandbox and tests use faster ones. */
  polling?: PollSchedule;
}

/**
 * Options for the activities calling a provider about a job (submit, poll, cancel): 429/5xx and
 * timeouts are retried with backoff (Retry-After honoured), permanent failures (lost job, bad
 * input, auth) are not.
 */
export const providerJobRequests = (taskQueue?: string): ActivityOptions => ({
  ...(taskQueue ? { taskQueue } : {}),
  startToCloseTimeout: '2 minutes',
  retry: {
    initialInterval: '1 second',
    maximumInterval: '30 seconds',
    maximumAttempts: 20,
    nonRetryableErrorTypes: PERMANENT_FAILURE_TYPES,
  },
});

const keyOf = (provider: string, jobId: string): string => `${provider}:${jobId}`;

const sameObservation = (a: ProviderJobUpdate | undefined, b: ProviderJobUpdate): boolean =>
  a !== undefined && a.status === b.status && a.progress === b.progress && a.etaSeconds === b.etaSeconds;

function jobFailure(update: ProviderJobUpdate): ApplicationFailure {
  const job = `${update.provider} job ${update.jobId}`;
  return update.status === 'canceled'
    ? ApplicationFailure.nonRetryable(`${job} was canceled at the provider`, FailureType.ProviderJobCanceled)
    : ApplicationFailure.nonRetryable(`${job} failed: ${update.error ?? 'no reason given'}`, FailureType.ProviderJobFailed);
}

/** The typed failure a poll activity threw (ProviderJobLost), unwrapped so callers read `err.type`. */
function lostJob(err: unknown): ApplicationFailure | undefined {
  const cause = err instanceof ActivityFailure ? err.cause : undefined;
  return cause instanceof ApplicationFailure && cause.type === FailureType.ProviderJobLost
    ? ApplicationFailure.nonRetryable(cause.message, FailureType.ProviderJobLost)
    : undefined;
}

/**
 * The provider jobs one workflow waits on. Construct it once, at the top of the workflow (before
 * any await), so no early webhook signal is missed; several jobs may be in flight at once.
 */
export class ProviderJobs {
  private readonly latest = new Map<string, ProviderJobUpdate>();

  constructor() {
    setHandler(providerJobUpdateSignal, (update) => this.observe(update));
  }

  /** The newest update of a job; a terminal one is final (a late "processing" webhook cannot undo it). */
  private observe(update: ProviderJobUpdate): void {
    const key = keyOf(update.provider, update.jobId);
    const known = this.latest.get(key);
    if (known && isTerminalProviderJobStatus(known.status)) return;
    this.latest.set(key, update);
  }

  /**
   * Waits until the job ends, whichever comes first: a webhook signal, or a poll when the
   * growing timer fires. Resolves with the `succeeded` update; throws non-retryable
   * ProviderJobFailed / ProviderJobCanceled / ProviderJobLost / ProviderJobTimedOut. When the
   * workflow is cancelled while waiting, the provider job is cancelled too, then the cancellation
   * is rethrown.
   */
  async awaitJob(job: AwaitProviderJob): Promise<ProviderJobUpdate> {
    const key = keyOf(job.provider, job.jobId);
    const polling = job.polling ?? DEFAULT_POLL_SCHEDULE;
    const maxInterval = msToNumber(polling.max);
    const deadlineAt = Date.now() + msToNumber(job.deadline);
    let interval = msToNumber(polling.initial);
    let reported: ProviderJobUpdate | undefined;
    const news = () => {
      const latest = this.latest.get(key);
      return latest !== undefined && !sameObservation(reported, latest);
    };
    try {
      for (;;) {
        const latest = this.latest.get(key);
        if (latest && !sameObservation(reported, latest)) {
          reported = latest;
          await job.onUpdate?.(latest);
        }
        if (latest && isTerminalProviderJobStatus(latest.status)) {
          if (latest.status === 'succeeded') return latest;
          throw jobFailure(latest);
        }
        const remaining = deadlineAt - Date.now();
        if (remaining <= 0) return await this.timedOut(job);
        if (await condition(news, Math.min(interval, remaining))) continue;
        if (Date.now() >= deadlineAt) continue; // the deadline, not the poll timer, woke us
        this.observe(await job.poll());
        interval = Math.min(interval * polling.factor, maxInterval);
      }
    } catch (err) {
      if (isCancellation(err)) {
        await CancellationScope.nonCancellable(() => job.cancel());
        throw err;
      }
      throw lostJob(err) ?? err;
    }
  }

  private async timedOut(job: AwaitProviderJob): Promise<never> {
    // Stop paying for a job we no longer wait for; its failure to cancel must not hide the timeout.
    await job.cancel().catch((err: unknown) => log.warn('cancelling a timed-out provider job failed', { jobId: job.jobId, err }));
    throw ApplicationFailure.nonRetryable(
      `${job.provider} job ${job.jobId} did not finish within ${String(job.deadline)}`,
      FailureType.ProviderJobTimedOut,
    );
  }
}

/** Installs the signal handler and returns the workflow's job watcher; call once per workflow. */
export const watchProviderJobs = (): ProviderJobs => new ProviderJobs();
