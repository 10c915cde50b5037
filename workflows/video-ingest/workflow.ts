import {
  CancellationScope,
  isCancellation,
  ParentClosePolicy,
  proxyActivities,
  startChild,
  workflowInfo,
  type RetryPolicy,
} from '@temporalio/workflow';
import type { ProviderJobActivities } from '../../activities/provider-jobs';
import type { VideoIngestActivities, VideoIngestMediaActivities } from '../../activities/video-ingest';
import { TRANSCRIPT_JOB_KIND, type IngestInput, type IngestResult, type IngestStage } from '../../schemas/video-ingest';
import { PERMANENT_FAILURE_TYPES } from '../../schemas/failures';
import { databaseWrites, mediaQueueWork } from '../common/activity-options';
import { failureMessage } from '../common/failures';
import { providerJobRequests, watchProviderJobs } from '../common/provider-jobs';
import { trackRun } from '../common/run-tracking';
import { CLIPS_WORKFLOW_TYPE, clipsWorkflowId } from '../clips/contract';
import type { clipsWorkflow } from '../clips/workflow';
import { AUTO_CLIPS_REQUEST_ID, VIDEO_INGEST_JOB_TYPE } from './contract';

const database = proxyActivities<VideoIngestActivities>(
  databaseWrites({ maximumAttempts: 10, nonRetryableErrorTypes: PERMANENT_FAILURE_TYPES }),
);
/** Polling and reading back the transcript: provider calls, 429/5xx retried with backoff. */
const providerJobs = proxyActivities<ProviderJobActivities>(providerJobRequests());
const transcripts = proxyActivities<Pick<VideoIngestActivities, 'saveIngestTranscript'>>(providerJobRequests());

/** Speech-to-text runs at a fraction of real time; a transcript still unfinished after this is cancelled and the ingest fails. */
const TRANSCRIPTION_DEADLINE = '3 hours';

/** Downloads: backed-off attempts (each resuming where the last stopped), never for a permanent failure. */
const DOWNLOAD_RETRY: RetryPolicy = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '1 minute',
  maximumAttempts: 8,
  nonRetryableErrorTypes: PERMANENT_FAILURE_TYPES,
};

/** Progress at the start of each stage. */
const PROGRESS: Record<IngestStage, number> = { pending: 0, processing: 5, transcribing: 60, analyzing: 85, ready: 100 };

/**
 * Source video → ready video (ClipFlow): download within the plan's size (resumable) and probe
 * within its length on the media queue; without a supplied timed transcript, extract the audio and
 * transcribe it with AssemblyAI (webhook or polling, whichever comes first) into word timings and
 * the language; mark key moments, then commit the plan's video slot with the processing minutes.
 * Any failure or cancel (a provider error included) refunds the slot and records the reason on the video. With `autoClips`, a clips run is started once the video is ready.
 */
export async function videoIngestWorkflow(input: IngestInput): Promise<IngestResult> {
  const jobs = watchProviderJobs();
  const media = proxyActivities<VideoIngestMediaActivities>(mediaQueueWork(input.mediaTaskQueue, '1 hour', DOWNLOAD_RETRY));
  return trackRun({ type: VIDEO_INGEST_JOB_TYPE, userId: input.userId, domainId: input.videoId }, async (run) => {
    const stage = async (status: IngestStage) => {
      await run.stage(status, PROGRESS[status]);
      await database.recordIngestStage({ videoId: input.videoId, status, progress: PROGRESS[status] });
    };
    try {
      await stage('processing');
      const source = await media.fetchIngestSource({ videoId: input.videoId, userId: input.userId, source: input.source });

      const transcription = await media.startIngestTranscription({ videoId: input.videoId, workflowId: workflowInfo().workflowId });
      let language: string | null = null;
      if (transcription.job) {
        await stage('transcribing');
        const job = { provider: transcription.job.provider, jobId: transcription.job.jobId, kind: TRANSCRIPT_JOB_KIND };
        await jobs.awaitJob({
          ...job,
          poll: () => providerJobs.pollProviderJob(job),
          cancel: () => providerJobs.cancelProviderJob(job),
          deadline: TRANSCRIPTION_DEADLINE,
          ...(input.polling ? { polling: { initial: input.polling.initialMs, max: input.polling.maxMs, factor: 2 } } : {}),
        });
        ({ language } = await transcripts.saveIngestTranscript({ videoId: input.videoId, jobId: job.jobId }));
      }

      await stage('analyzing');
      const analysis = await database.analyzeIngestedVideo({ videoId: input.videoId });
      await database.completeIngest({ videoId: input.videoId });
      await run.stage('ready', PROGRESS.ready, { transcriptWords: analysis.transcriptWords, keyMoments: analysis.keyMoments });

      let clipsRunId: string | null = null;
      if (input.autoClips && analysis.transcriptWords > 0) {
        clipsRunId = clipsWorkflowId(input.videoId, AUTO_CLIPS_REQUEST_ID);
        // The clips run outlives this one: the video is ready whatever becomes of its clips.
        await startChild<typeof clipsWorkflow>(CLIPS_WORKFLOW_TYPE, {
          workflowId: clipsRunId,
          args: [{ videoId: input.videoId, userId: input.userId, mediaTaskQueue: input.mediaTaskQueue, ...input.autoClips }],
          parentClosePolicy: ParentClosePolicy.ABANDON,
        });
      }
      return {
        videoId: input.videoId,
        status: 'ready',
        durationSeconds: source.durationSeconds,
        hasAudio: source.hasAudio,
        transcriptWords: analysis.transcriptWords,
        language,
        transcriptSkipped: transcription.skipped,
        clipsRunId,
      };
    } catch (err) {
      await CancellationScope.nonCancellable(() =>
        database.failIngest({ videoId: input.videoId, reason: failureMessage(err), canceled: isCancellation(err) }),
      );
      throw err;
    }
  });
}
