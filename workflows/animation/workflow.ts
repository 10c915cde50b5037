import { ApplicationFailure, CancellationScope, isCancellation, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { ProviderJobActivities } from '../../activities/provider-jobs';
import type { PhotoshootActivities, PhotoshootMediaActivities } from '../../activities/sselfie-photoshoots';
import { FailureType, PERMANENT_FAILURE_TYPES } from '../../schemas/failures';
import { ANIMATION_CREDIT_COST, type AnimationInput, type AnimationResult } from '../../schemas/sselfie-photoshoots';
import { databaseWrites } from '../common/activity-options';
import { CreditHold } from '../common/credit-holds';
import { failureMessage } from '../common/failures';
import { providerJobRequests, watchProviderJobs } from '../common/provider-jobs';
import { trackRun } from '../common/run-tracking';
import { ANIMATION_JOB_TYPE } from './contract';

const rows = proxyActivities<PhotoshootActivities>(
  databaseWrites({ maximumAttempts: 10, nonRetryableErrorTypes: PERMANENT_FAILURE_TYPES }),
);
const providerJobs = proxyActivities<ProviderJobActivities>(providerJobRequests());

/** An image-to-video prediction takes about a minute; past this it is cancelled and refunded. */
const ANIMATION_DEADLINE = '30 minutes';

/**
 * An animation: credits reserved → the image-to-video prediction (created once) awaited by webhook
 * or poll → the mp4 stored → credits committed. A failure or cancel refunds once and keeps the
 * reason on the generated_videos row.
 */
export async function animationWorkflow(input: AnimationInput): Promise<AnimationResult> {
  const jobs = watchProviderJobs();
  const media = proxyActivities<PhotoshootMediaActivities>(providerJobRequests(input.mediaTaskQueue));
  const { videoId } = input;
  return trackRun({ type: ANIMATION_JOB_TYPE, userId: input.userId, domainId: videoId }, async (run) => {
    let hold: CreditHold | undefined;
    try {
      await run.stage('reserving-credits', 5);
      hold = await CreditHold.reserve({
        userId: input.userId,
        amount: ANIMATION_CREDIT_COST,
        item: 'animation',
        reason: `animation ${videoId}`,
      });
      await run.stage('animating', 10);
      const job = await media.startAnimationPrediction({ videoId, workflowId: workflowInfo().workflowId });
      const ref = { provider: job.provider, jobId: job.jobId, kind: 'prediction' };
      const done = await jobs.awaitJob({
        provider: job.provider,
        jobId: job.jobId,
        poll: () => providerJobs.pollProviderJob(ref),
        cancel: () => providerJobs.cancelProviderJob(ref),
        deadline: ANIMATION_DEADLINE,
        onUpdate: (update) => run.stage('animating', 10 + 0.8 * (update.progress ?? 0)),
        polling: { initial: input.polling.initialMs, max: input.polling.maxMs, factor: 2 },
      });
      const outputUrl = done.outputUrls?.[0];
      if (!outputUrl)
        throw ApplicationFailure.nonRetryable(`prediction ${job.jobId} succeeded without a video`, FailureType.ProviderJobFailed);
      await run.stage('storing', 90);
      const stored = await media.storeAnimation({ videoId, outputUrl });
      await hold.commit();
      return { videoId, videoUrl: stored.videoUrl };
    } catch (err) {
      const reason = failureMessage(err);
      await CancellationScope.nonCancellable(async () => {
        await hold?.refund(`animation ${videoId}: ${reason}`);
        await rows.endAnimation({ videoId, status: isCancellation(err) ? 'canceled' : 'failed', reason });
      });
      throw err;
    }
  });
}
