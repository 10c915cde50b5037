import { ApplicationFailure, CancellationScope, executeChild, isCancellation, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { ProviderJobActivities } from '../../activities/provider-jobs';
import type { PhotoshootActivities, PhotoshootMediaActivities } from '../../activities/sselfie-photoshoots';
import { FailureType, PERMANENT_FAILURE_TYPES } from '../../schemas/failures';
import {
  PHOTOSHOOT_GRID_CREDIT_COST,
  type PhotoshootGridInput,
  type PhotoshootGridResult,
  type PhotoshootInput,
  type PhotoshootResult,
} from '../../schemas/sselfie-photoshoots';
import { databaseWrites } from '../common/activity-options';
import { CreditHold } from '../common/credit-holds';
import { failureMessage } from '../common/failures';
import { providerJobRequests, watchProviderJobs } from '../common/provider-jobs';
import { trackRun } from '../common/run-tracking';
import { PHOTOSHOOT_JOB_TYPE, photoshootGridWorkflowId } from './contract';

const rows = proxyActivities<PhotoshootActivities>(
  databaseWrites({ maximumAttempts: 10, nonRetryableErrorTypes: PERMANENT_FAILURE_TYPES }),
);
const submits = proxyActivities<PhotoshootActivities>(providerJobRequests());
const providerJobs = proxyActivities<ProviderJobActivities>(providerJobRequests());

/** Grids generated at once: Replicate runs a few predictions per account in parallel; the rest wait their turn. */
export const PARALLEL_GRIDS = 3;
/** A grid prediction takes seconds to a few minutes; past this it is cancelled and that grid refunded. */
const GRID_DEADLINE = '30 minutes';

/**
 * Runs `work` over `items` with at most `limit` in flight (deterministic: items are taken in order).
 * A lane that throws stops taking items, but the others settle first (a cancelled child must finish
 * cancelling its prediction before the parent closes), then the first error is rethrown.
 */
async function forEachBounded<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let stopped = false;
  const lane = async () => {
    while (!stopped && next < items.length) {
      try {
        await work(items[next++]!);
      } catch (err) {
        stopped = true;
        throw err;
      }
    }
  };
  const lanes = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, lane));
  const failed = lanes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
  if (failed) throw failed.reason;
}

/**
 * A pro photoshoot: one credit hold per grid reserved up front → one child run per grid,
 * PARALLEL_GRIDS at a time → each delivered grid's hold committed, a failed grid's refunded alone.
 * The session ends completed, partially_completed or failed (no grid delivered). Cancelling the
 * run cancels the running children (and their predictions) and refunds what was not delivered.
 */
export async function photoshootWorkflow(input: PhotoshootInput): Promise<PhotoshootResult> {
  const { sessionId, gridCount } = input;
  return trackRun({ type: PHOTOSHOOT_JOB_TYPE, userId: input.userId, domainId: sessionId }, async (run) => {
    const holds: CreditHold[] = [];
    let gridsCompleted = 0;
    let gridsFailed = 0;

    const shoot = async (position: number): Promise<void> => {
      const hold = holds[position]!;
      try {
        await executeChild(photoshootGridWorkflow, {
          workflowId: photoshootGridWorkflowId(sessionId, position),
          args: [{ sessionId, position, mediaTaskQueue: input.mediaTaskQueue, polling: input.polling }],
        });
        await hold.commit();
        gridsCompleted += 1;
      } catch (err) {
        if (isCancellation(err)) throw err;
        await hold.refund(`grid ${position + 1} of photoshoot ${sessionId}: ${failureMessage(err)}`);
        gridsFailed += 1;
      }
      await run.stage('generating', 10 + (90 * (gridsCompleted + gridsFailed)) / gridCount, { gridsCompleted, gridsFailed });
    };

    try {
      await run.stage('reserving-credits', 5);
      for (let position = 0; position < gridCount; position++)
        holds.push(
          await CreditHold.reserve({
            userId: input.userId,
            amount: PHOTOSHOOT_GRID_CREDIT_COST,
            item: `grid-${position}`,
            reason: `pro photoshoot ${sessionId}`,
          }),
        );
      await run.stage('generating', 10, { gridsCompleted, gridsFailed });
      await forEachBounded(
        Array.from({ length: gridCount }, (_, position) => position),
        PARALLEL_GRIDS,
        shoot,
      );
    } catch (err) {
      const reason = failureMessage(err);
      await CancellationScope.nonCancellable(async () => {
        for (const hold of holds) await hold.refund(`pro photoshoot ${sessionId}: ${reason}`);
        await rows.endPhotoshoot({ sessionId, status: isCancellation(err) ? 'canceled' : 'failed', reason });
      });
      throw err;
    }
    if (gridsCompleted === 0) {
      await rows.endPhotoshoot({ sessionId, status: 'failed', reason: 'no grid could be generated' });
      throw ApplicationFailure.nonRetryable(`no grid of photoshoot ${sessionId} could be generated`, FailureType.GenerationFailed);
    }
    await rows.endPhotoshoot({
      sessionId,
      status: gridsFailed === 0 ? 'completed' : 'partially_completed',
      reason: gridsFailed === 0 ? null : `${gridsFailed} of ${gridCount} grids failed`,
    });
    return { sessionId, gridsCompleted, gridsFailed };
  });
}

/**
 * One grid of a photoshoot (child run `photoshoot-grid:<sessionId>:<position>`): its prediction,
 * created once, awaited by webhook or poll, then the contact sheet is cut into 9 stored frames. A
 * failure is recorded on the grid row and rethrown to the parent, which refunds the grid.
 */
export async function photoshootGridWorkflow(input: PhotoshootGridInput): Promise<PhotoshootGridResult> {
  const jobs = watchProviderJobs();
  const media = proxyActivities<PhotoshootMediaActivities>(providerJobRequests(input.mediaTaskQueue));
  const { sessionId, position } = input;
  try {
    const job = await submits.startGridPrediction({ sessionId, position, workflowId: workflowInfo().workflowId });
    const ref = { provider: job.provider, jobId: job.jobId, kind: 'prediction' };
    const done = await jobs.awaitJob({
      provider: job.provider,
      jobId: job.jobId,
      poll: () => providerJobs.pollProviderJob(ref),
      cancel: () => providerJobs.cancelProviderJob(ref),
      deadline: GRID_DEADLINE,
      polling: { initial: input.polling.initialMs, max: input.polling.maxMs, factor: 2 },
    });
    const outputUrl = done.outputUrls?.[0];
    if (!outputUrl)
      throw ApplicationFailure.nonRetryable(`prediction ${job.jobId} succeeded without an image`, FailureType.ProviderJobFailed);
    return await media.storePhotoshootGrid({ sessionId, position, outputUrl });
  } catch (err) {
    const reason = failureMessage(err);
    await CancellationScope.nonCancellable(() => rows.failPhotoshootGrid({ sessionId, position, reason }));
    throw err;
  }
}
