import type { Duration } from '@temporalio/common';
import { ApplicationFailure, CancellationScope, log, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { ProductActivities, ProductMediaActivities } from '../../activities/products';
import type { ProviderJobActivities } from '../../activities/provider-jobs';
import { FailureType, PERMANENT_FAILURE_TYPES } from '../../schemas/failures';
import type { ProductVideoInput, ProductVideoResult, ProductVideoStatus } from '../../schemas/products';
import type { ProviderJobUpdate } from '../../schemas/provider-jobs';
import { databaseWrites, mediaQueueWork } from '../common/activity-options';
import { failureMessage } from '../common/failures';
import { DEFAULT_POLL_SCHEDULE, watchProviderJobs, type PollSchedule } from '../common/provider-jobs';
import { trackRun, type RunTracker } from '../common/run-tracking';
import { FREEPIK_IMAGE_DEADLINE, FREEPIK_VIDEO_DEADLINE, PRODUCT_VIDEO_JOB_TYPE } from './contract';

const PERMANENT_CREDIT_FAILURES = [...PERMANENT_FAILURE_TYPES, 'InsufficientCredits', 'ReservationCommitted', 'ReservationRefunded'];

const database = proxyActivities<ProductActivities>(databaseWrites({ nonRetryableErrorTypes: PERMANENT_CREDIT_FAILURES }));

// Freepik calls: 429 (with Retry-After) and 5xx are retried with backoff, refusals are not.
const freepik = proxyActivities<ProductActivities & ProviderJobActivities>({
  startToCloseTimeout: '1 minute',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 8,
    nonRetryableErrorTypes: [...PERMANENT_FAILURE_TYPES, FailureType.ProviderJobLost],
  },
});

// Telling the user is worth a few tries, never worth failing (or un-failing) the video.
const mail = proxyActivities<ProductActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '2 seconds', maximumAttempts: 5, nonRetryableErrorTypes: PERMANENT_FAILURE_TYPES },
});

const media = (taskQueue: string) =>
  proxyActivities<ProductMediaActivities>(
    mediaQueueWork(taskQueue, '5 minutes', {
      initialInterval: '1 second',
      backoffCoefficient: 2,
      maximumInterval: '20 seconds',
      maximumAttempts: 5,
      nonRetryableErrorTypes: PERMANENT_FAILURE_TYPES,
    }),
  );

/** Progress bands of the two tasks: a task's update moves the row within its band. */
const BANDS: Record<'image' | 'video', { status: ProductVideoStatus; queued: number; processing: number }> = {
  image: { status: 'GeneratingImage', queued: 10, processing: 25 },
  video: { status: 'GeneratingVideo', queued: 45, processing: 60 },
};

async function enter(run: RunTracker, videoId: string, status: ProductVideoStatus, progress: number): Promise<void> {
  await run.stage(status, progress);
  await database.updateProductVideo({ videoId, change: { status, progress } });
}

async function tellUser(videoId: string, outcome: 'completed' | 'failed'): Promise<void> {
  try {
    await mail.notifyProductVideo({ videoId, outcome });
  } catch (err) {
    log.warn('product video email not sent', { videoId, outcome, error: failureMessage(err) });
  }
}

/**
 * A product video: reserve its credits → a Freepik still of the product → a Freepik
 * image-to-video task from it (both awaited through the provider-jobs pattern, by polling) → the
 * optional caption/price overlay and storage on the media queue → credits committed. Any failure
 * (or cancel) refunds the credits once and marks the row Failed; the user is emailed either way.
 */
export async function productVideoWorkflow(input: ProductVideoInput): Promise<ProductVideoResult> {
  const jobs = watchProviderJobs();
  const polling: PollSchedule = input.polling
    ? { initial: input.polling.initialMs, max: input.polling.maxMs, factor: 2 }
    : DEFAULT_POLL_SCHEDULE;
  const { videoId } = input;

  const awaitTask = async (run: RunTracker, kind: 'image' | 'video', jobId: string, deadline: Duration): Promise<ProviderJobUpdate> => {
    const band = BANDS[kind];
    return jobs.awaitJob({
      provider: 'freepik',
      jobId,
      poll: () => freepik.pollProviderJob({ provider: 'freepik', jobId, kind }),
      cancel: () => freepik.cancelProviderJob({ provider: 'freepik', jobId, kind }),
      deadline,
      polling,
      onUpdate: (update) => enter(run, videoId, band.status, update.status === 'queued' ? band.queued : band.processing),
    });
  };
  const outputOf = (update: ProviderJobUpdate, what: string): string => {
    const url = update.outputUrls?.[0];
    if (!url) throw ApplicationFailure.nonRetryable(`Freepik finished the ${what} without an output`, FailureType.GenerationFailed);
    return url;
  };

  return trackRun({ type: PRODUCT_VIDEO_JOB_TYPE, userId: input.userId, domainId: videoId }, async (run) => {
    let delivered: ProductVideoResult;
    try {
      await run.stage('reserving_credits', 5);
      await database.reserveProductVideoCredits({ videoId });

      await enter(run, videoId, 'GeneratingImage', BANDS.image.queued);
      const imageTask = await freepik.submitFreepikTask({ videoId, workflowId: workflowInfo().workflowId, kind: 'image' });
      const imageUrl = outputOf(await awaitTask(run, 'image', imageTask.jobId, FREEPIK_IMAGE_DEADLINE), 'image');
      await database.updateProductVideo({ videoId, change: { imageUrl } });

      await enter(run, videoId, 'GeneratingVideo', BANDS.video.queued);
      const videoTask = await freepik.submitFreepikTask({ videoId, workflowId: workflowInfo().workflowId, kind: 'video', imageUrl });
      const clipUrl = outputOf(await awaitTask(run, 'video', videoTask.jobId, FREEPIK_VIDEO_DEADLINE), 'video');

      await run.stage('storing_video', 85);
      const stored = await media(input.mediaTaskQueue).storeProductVideo({ videoId, sourceUrl: clipUrl });
      const charged = await database.completeProductVideo({ videoId, videoUrl: stored.url, fileSizeBytes: stored.bytes });
      delivered = { videoId, videoUrl: stored.url, creditsCharged: charged.creditsCharged };
    } catch (err) {
      await CancellationScope.nonCancellable(async () => {
        await database.failProductVideo({ videoId, message: failureMessage(err) });
        await tellUser(videoId, 'failed');
      });
      throw err;
    }
    await run.stage('Completed', 100);
    await tellUser(videoId, 'completed');
    return delivered;
  });
}
