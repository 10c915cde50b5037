import { ActivityCancellationType, ApplicationFailure, CancellationScope, isCancellation, proxyActivities } from '@temporalio/workflow';
import type { VideoImportActivities } from '../../activities/video-import';
import type {
  ExportOutcome,
  GenerateContentInput,
  GeneratedContent,
  QuotaReservation,
  VideoImportInput,
  VideoImportResult,
} from '../../schemas/video-import';
import { FailureType } from '../../schemas/failures';
import { failureMessage } from '../common/failures';
import { trackRun, writesProgressOnce, type RunTracker } from '../common/run-tracking';
import { CONTENT_REGENERATE_JOB_TYPE, MAX_PARALLEL_GENERATIONS, VIDEO_IMPORT_JOB_TYPE } from './contract';
import { databaseWrites } from '../common/activity-options';

const database = proxyActivities<VideoImportActivities>(databaseWrites());

// YouTube calls may park until the daily quota resets (a retryable QuotaExceeded with
// nextRetryDelay), so attempts are capped by count rather than by a schedule-to-close deadline.
const youtube = proxyActivities<VideoImportActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', maximumAttempts: 10 },
});

// Long transcripts are summarised chunk by chunk (map-reduce): minutes, so progress is a heartbeat.
// A cancel waits for each generation to stop or finish: a version written as the run is canceled
// still counts as produced content when the quota is settled.
const ai = proxyActivities<VideoImportActivities>({
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: '5 seconds',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: { initialInterval: '2 seconds', maximumInterval: '1 minute', maximumAttempts: 4 },
});

const drive = proxyActivities<VideoImportActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '2 seconds', maximumInterval: '1 minute', maximumAttempts: 4 },
});

const GENERATION_START = 25;
const GENERATION_END = 90;

/** Stage + progress for the run (query, job_runs) and the video row (lists, closed runs), in one write. */
async function advance(
  run: RunTracker,
  videoId: string,
  stage: string,
  progress: number,
  counters?: Record<string, number>,
): Promise<void> {
  if (writesProgressOnce()) return run.stage(stage, progress, counters, { kind: 'video', videoId });
  await run.stage(stage, progress, counters);
  await database.updateVideoStatus(videoId, { status: 'processing', progress: run.current.progress });
}

interface Generation {
  generated: GeneratedContent[];
  failed: string[];
  cancellation?: Error;
}

/** One activity per content type, at most MAX_PARALLEL_GENERATIONS at once; a failed type does not stop the others. */
async function generateAll(run: RunTracker, input: VideoImportInput, contentTypes: string[]): Promise<Generation> {
  const pending = [...contentTypes];
  const outcome: Generation = { generated: [], failed: [] };
  const total = contentTypes.length;
  const tick = () => {
    const finished = outcome.generated.length + outcome.failed.length;
    const progress = GENERATION_START + ((GENERATION_END - GENERATION_START) * finished) / total;
    return advance(run, input.videoId, 'generating', progress, {
      contentTotal: total,
      contentDone: outcome.generated.length,
      contentFailed: outcome.failed.length,
    });
  };
  const lane = async () => {
    for (let contentType = pending.shift(); contentType !== undefined && !outcome.cancellation; contentType = pending.shift()) {
      try {
        outcome.generated.push(
          await ai.generateVideoContent({ videoId: input.videoId, userId: input.userId, contentType, version: 1, parentContentId: null }),
        );
      } catch (err) {
        if (isCancellation(err)) {
          outcome.cancellation ??= err as Error;
          return;
        }
        outcome.failed.push(contentType);
      }
      await tick().catch((err: unknown) => {
        if (!isCancellation(err)) throw err;
        outcome.cancellation ??= err as Error;
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(MAX_PARALLEL_GENERATIONS, total) }, lane));
  // Report in the requested order, not completion order, so results read the same every time.
  const rank = (type: string) => contentTypes.indexOf(type);
  outcome.generated.sort((a, b) => rank(a.contentType) - rank(b.contentType));
  outcome.failed.sort((a, b) => rank(a) - rank(b));
  return outcome;
}

/**
 * YouTube video → AI content. Adopts the quota slot the API reserved (or reserves one), stores
 * metadata and transcript, generates every requested content type the plan allows in parallel,
 * optionally exports to Google Drive. The quota slot is committed once any content exists,
 * released otherwise (failure or cancel before the first content), never both and never twice.
 */
export async function videoImportWorkflow(input: VideoImportInput): Promise<VideoImportResult> {
  return trackRun({ type: VIDEO_IMPORT_JOB_TYPE, userId: input.userId, domainId: input.videoId }, async (run) => {
    let quotaSettled = false;
    let produced = 0;
    try {
      await advance(run, input.videoId, 'checking_quota', 5);
      const quota: QuotaReservation = await database.reserveVideoQuota({
        videoId: input.videoId,
        userId: input.userId,
        reserved: input.quotaReserved,
      });

      await advance(run, input.videoId, 'fetching_metadata', 10);
      await youtube.fetchVideoMetadata({ videoId: input.videoId, maxDurationSeconds: quota.maxDurationSeconds });
      await advance(run, input.videoId, 'fetching_transcript', 18);
      const transcript = await youtube.fetchVideoTranscript({ videoId: input.videoId, userId: input.userId });
      // A transcript longer than the model's context is condensed once (map-reduce) for every content type.
      if (transcript.needsCondensing) await ai.condenseTranscript({ videoId: input.videoId, userId: input.userId });

      const allowed = new Set(quota.allowedContentTypes);
      const contentTypes = input.contentTypes.length > 0 ? input.contentTypes.filter((t) => allowed.has(t)) : quota.allowedContentTypes;
      if (contentTypes.length === 0)
        throw ApplicationFailure.nonRetryable(
          `the ${quota.plan} plan allows none of the requested content types`,
          FailureType.InvalidInput,
        );

      await advance(run, input.videoId, 'generating', GENERATION_START, {
        contentTotal: contentTypes.length,
        contentDone: 0,
        contentFailed: 0,
      });
      const generation = await generateAll(run, input, contentTypes);
      produced = generation.generated.length;
      if (produced > 0) {
        await CancellationScope.nonCancellable(() => database.commitVideoQuota(input.videoId));
        quotaSettled = true;
      }
      if (generation.cancellation) throw generation.cancellation;
      if (produced === 0)
        throw ApplicationFailure.nonRetryable(
          `content generation failed for every type (${generation.failed.join(', ')})`,
          FailureType.GenerationFailed,
        );

      let exported: ExportOutcome | undefined;
      if (input.export) {
        const { formats } = input.export;
        const contentIds = generation.generated.map((g) => g.contentId);
        await advance(run, input.videoId, 'exporting', 92);
        // Content is kept whatever happens to the export: its failure is reported, not fatal.
        exported = await drive
          .exportVideoContent({ videoId: input.videoId, userId: input.userId, contentIds, formats })
          .catch((err: unknown): ExportOutcome => {
            if (isCancellation(err)) throw err;
            return { status: 'failed', uploaded: 0, failed: contentIds.length * formats.length, reason: failureMessage(err) };
          });
      }

      await run.stage('completed', 100);
      await database.updateVideoStatus(input.videoId, { status: 'completed', progress: 100 });
      return {
        videoId: input.videoId,
        generatedContentTypes: generation.generated.map((g) => g.contentType),
        failedContentTypes: generation.failed,
        contentIds: Object.fromEntries(generation.generated.map((g) => [g.contentType, g.contentId])),
        quota: 'committed',
        ...(exported ? { export: exported } : {}),
      };
    } catch (err) {
      await CancellationScope.nonCancellable(async () => {
        if (!quotaSettled) await (produced > 0 ? database.commitVideoQuota(input.videoId) : database.releaseVideoQuota(input.videoId));
        await database.updateVideoStatus(input.videoId, {
          status: isCancellation(err) ? 'canceled' : 'failed',
          error: failureMessage(err),
        });
      });
      throw err;
    }
  });
}

/** Writes the next version of one content type of an imported video, with the earlier version as its parent. */
export async function regenerateContentWorkflow(input: GenerateContentInput): Promise<GeneratedContent> {
  return trackRun({ type: CONTENT_REGENERATE_JOB_TYPE, userId: input.userId, domainId: input.videoId }, async (run) => {
    await run.stage('generating', 10);
    const content = await ai.generateVideoContent(input);
    await run.stage('completed', 100);
    return content;
  });
}
