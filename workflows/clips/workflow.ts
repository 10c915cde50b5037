import { ApplicationFailure, CancellationScope, isCancellation, proxyActivities, type RetryPolicy } from '@temporalio/workflow';
import type { ClipActivities, ClipMediaActivities } from '../../activities/clips';
import type { ClipsInput, ClipsResult, RenderedClip } from '../../schemas/clips';
import { FailureType, PERMANENT_FAILURE_TYPES } from '../../schemas/failures';
import { failureMessage } from '../common/failures';
import { trackRun } from '../common/run-tracking';
import { CLIPS_JOB_TYPE, RENDER_PROGRESS_END, RENDER_PROGRESS_START } from './contract';
import { databaseWrites, mediaQueueWork } from '../common/activity-options';

const database = proxyActivities<ClipActivities>(databaseWrites({ maximumAttempts: 10, nonRetryableErrorTypes: PERMANENT_FAILURE_TYPES }));

/** Model calls and renders: a few backed-off attempts, never for a permanent failure. */
const BOUNDED_RETRY: RetryPolicy = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '30 seconds',
  maximumAttempts: 5,
  nonRetryableErrorTypes: PERMANENT_FAILURE_TYPES,
};

const ai = proxyActivities<ClipActivities>({ startToCloseTimeout: '2 minutes', retry: BOUNDED_RETRY });

/** Clip renders on the media worker's queue (see mediaQueueWork). */
function mediaActivities(taskQueue: string) {
  return proxyActivities<ClipMediaActivities>(mediaQueueWork(taskQueue, '30 minutes', BOUNDED_RETRY));
}

/**
 * Video → clips: check the source (timed transcript, real video within the plan), let the AI
 * pick moments that fit the real duration and requested lengths, then render every clip on
 * the media queue (each ratio, burned captions, thumbnail, caption files). A failing clip does
 * not stop the others; on failure or cancel, finished clips are kept and the rest marked failed.
 */
export async function clipsWorkflow(input: ClipsInput): Promise<ClipsResult> {
  const media = mediaActivities(input.mediaTaskQueue);
  return trackRun({ type: CLIPS_JOB_TYPE, userId: input.userId, domainId: input.videoId }, async (run) => {
    try {
      await run.stage('probing', 2);
      const source = await media.prepareClipSource({ videoId: input.videoId, userId: input.userId });

      await run.stage('picking-moments', 8);
      const planned = await ai.pickClipMoments({
        videoId: input.videoId,
        userId: input.userId,
        count: input.count,
        minSeconds: input.minSeconds,
        maxSeconds: input.maxSeconds,
        durationSeconds: source.durationSeconds,
        captionStyle: input.captionStyle,
      });

      const rendered: RenderedClip[] = [];
      const failedClips: ClipsResult['failedClips'] = [];
      const counters = () => ({ clipsTotal: planned.length, clipsDone: rendered.length, clipsFailed: failedClips.length });
      const advance = () =>
        run.stage(
          'rendering',
          RENDER_PROGRESS_START + ((RENDER_PROGRESS_END - RENDER_PROGRESS_START) * (rendered.length + failedClips.length)) / planned.length,
          counters(),
        );
      await advance();

      // All clips are handed to the media queue at once; its worker's slot count sets the pace.
      const outcomes = await Promise.allSettled(
        planned.map(async (clip) => {
          try {
            rendered.push(
              await media.renderClip({ clipId: clip.clipId, aspectRatios: input.aspectRatios, captionStyle: input.captionStyle }),
            );
          } catch (err) {
            if (isCancellation(err)) throw err;
            failedClips.push({ clipId: clip.clipId, clipIndex: clip.clipIndex, error: failureMessage(err) });
            await database.failClip({ clipId: clip.clipId, error: failureMessage(err) });
          }
          await advance();
        }),
      );
      const canceled = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
      if (canceled) throw canceled.reason;

      if (rendered.length === 0) {
        throw ApplicationFailure.nonRetryable(
          `no clip could be rendered: ${failedClips.map((f) => f.error).join('; ')}`,
          FailureType.ClipRenderFailed,
        );
      }
      await run.stage(failedClips.length > 0 ? 'completed_with_errors' : 'completed', 100, counters());
      return {
        videoId: input.videoId,
        clips: rendered.sort((a, b) => a.clipIndex - b.clipIndex),
        failedClips: failedClips.sort((a, b) => a.clipIndex - b.clipIndex),
      };
    } catch (err) {
      await CancellationScope.nonCancellable(() => database.settleUnfinishedClips({ reason: failureMessage(err) }));
      throw err;
    }
  });
}
