import { ApplicationFailure, CancellationScope, isCancellation, proxyActivities } from '@temporalio/workflow';
import type { ThumbnailActivities, ThumbnailMediaActivities } from '../../activities/thumbnails';
import type { RenderedThumbnail, ThumbnailsInput, ThumbnailsResult, ThumbnailYoutubeInput } from '../../schemas/thumbnails';
import { FailureType, PERMANENT_FAILURE_TYPES, PERMANENT_YOUTUBE_FAILURE_TYPES } from '../../schemas/failures';
import { failureMessage } from '../common/failures';
import { trackRun, writesProgressOnce, type RunTracker } from '../common/run-tracking';
import { STYLES_PROGRESS_END, STYLES_PROGRESS_START, THUMBNAIL_YOUTUBE_JOB_TYPE, THUMBNAILS_JOB_TYPE } from './contract';
import { databaseWrites, mediaQueueWork } from '../common/activity-options';

const database = proxyActivities<ThumbnailActivities>(
  databaseWrites({ maximumAttempts: 10, nonRetryableErrorTypes: PERMANENT_FAILURE_TYPES }),
);

// Each style's copy and render are separate activities with bounded, backed-off retries: a
// flaky upload re-renders (cheap) without paying for the model call again.
const ai = proxyActivities<ThumbnailActivities>({
  startToCloseTimeout: '2 minutes',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    maximumAttempts: 4,
    nonRetryableErrorTypes: PERMANENT_FAILURE_TYPES,
  },
});

// The render is CPU-bound: it runs on the media worker's queue and heartbeats, so a dead worker's
// style is retried within seconds. A cancel waits for the render to stop or finish: a row written
// as the job is canceled is still counted.
function mediaActivities(taskQueue: string) {
  return proxyActivities<ThumbnailMediaActivities>(
    mediaQueueWork(taskQueue, '3 minutes', {
      initialInterval: '500 milliseconds',
      backoffCoefficient: 2,
      maximumInterval: '20 seconds',
      maximumAttempts: 5,
      nonRetryableErrorTypes: PERMANENT_FAILURE_TYPES,
    }),
  );
}

const youtube = proxyActivities<ThumbnailActivities>({
  startToCloseTimeout: '2 minutes',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 6,
    nonRetryableErrorTypes: PERMANENT_YOUTUBE_FAILURE_TYPES,
  },
});

/** Stage and progress for the run (query, job_runs) and the job row (current_style, progress), in one write. */
async function advance(
  run: RunTracker,
  jobId: string,
  stage: string,
  progress: number,
  currentStyle: string | null,
  counters: Record<string, number>,
): Promise<void> {
  if (writesProgressOnce()) return run.stage(stage, progress, counters, { kind: 'thumbnail_job', jobId, currentStyle });
  await run.stage(stage, progress, counters);
  await database.updateThumbnailProgress({ jobId, progress: run.current.progress, currentStyle });
}

/**
 * Renders a thumbnail job style by style: the AI writes each style's overlay text and layout,
 * the media toolkit renders it, Cloudinary stores it, and a video_thumbnails row records it.
 * A failing style never stops the others. The iteration the API reserved is charged when
 * anything was produced and given back otherwise, exactly once, also on failure or cancel.
 */
export async function thumbnailsWorkflow(input: ThumbnailsInput): Promise<ThumbnailsResult> {
  return trackRun({ type: THUMBNAILS_JOB_TYPE, userId: input.userId, domainId: input.jobId }, async (run) => {
    const render = mediaActivities(input.mediaTaskQueue);
    const produced: RenderedThumbnail[] = [];
    const failedStyles: ThumbnailsResult['failedStyles'] = [];
    let settled = false;
    try {
      await run.stage('preparing', 2);
      const { styles } = await database.startThumbnailJob({ jobId: input.jobId });
      const counters = () => ({ stylesTotal: styles.length, stylesDone: produced.length, stylesFailed: failedStyles.length });
      for (const [index, style] of styles.entries()) {
        const progress = STYLES_PROGRESS_START + ((STYLES_PROGRESS_END - STYLES_PROGRESS_START) * index) / styles.length;
        await advance(run, input.jobId, `generating:${style}`, progress, style, counters());
        try {
          const copy = await ai.writeThumbnailCopy({ jobId: input.jobId, style, refinement: input.refinement });
          produced.push(
            await render.renderThumbnail({
              jobId: input.jobId,
              style,
              generationOrder: index,
              version: input.version,
              copy,
              refinement: input.refinement,
            }),
          );
        } catch (err) {
          if (isCancellation(err)) throw err;
          failedStyles.push({ style, error: failureMessage(err) });
        }
      }
      await run.stage('finishing', STYLES_PROGRESS_END, counters());
      const errorMessage = failedStyles.length > 0 ? failedStyles.map((f) => `${f.style}: ${f.error}`).join('; ') : null;
      const settlement = await database.finishThumbnailJob({ jobId: input.jobId, ending: 'finished', errorMessage });
      settled = true;
      if (settlement.produced === 0)
        throw ApplicationFailure.nonRetryable(
          `no thumbnail could be generated (${errorMessage ?? 'no styles'})`,
          FailureType.GenerationFailed,
        );
      await run.stage(settlement.status, 100, counters());
      return { jobId: input.jobId, status: settlement.status, thumbnails: produced, failedStyles, charged: settlement.charged };
    } catch (err) {
      if (!settled) {
        await CancellationScope.nonCancellable(() =>
          database.finishThumbnailJob({
            jobId: input.jobId,
            ending: isCancellation(err) ? 'canceled' : 'failed',
            errorMessage: failureMessage(err),
          }),
        );
      }
      throw err;
    }
  });
}

/** Sets a selected thumbnail as its video's YouTube thumbnail. */
export async function thumbnailYoutubeUploadWorkflow(input: ThumbnailYoutubeInput): Promise<{ url: string | null }> {
  return trackRun({ type: THUMBNAIL_YOUTUBE_JOB_TYPE, userId: input.userId, domainId: input.thumbnailId }, async (run) => {
    await run.stage('uploading', 10);
    const result = await youtube.uploadThumbnailToYoutube(input);
    await run.stage('completed', 100);
    return result;
  });
}
