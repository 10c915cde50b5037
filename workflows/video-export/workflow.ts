import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { VideoImportActivities } from '../../activities/video-import';
import type { VideoExportInput } from '../../schemas/connections';
import { FailureType } from '../../schemas/failures';
import type { ExportOutcome } from '../../schemas/video-import';
import { trackRun } from '../common/run-tracking';
import { VIDEO_EXPORT_JOB_TYPE } from './contract';

const database = proxyActivities<VideoImportActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '500 milliseconds', maximumInterval: '10 seconds' },
});

// Four attempts: cloud_storage_uploads.max_retries (3) retries after the first; completed files are never uploaded again.
const drive = proxyActivities<VideoImportActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '2 seconds', maximumInterval: '1 minute', maximumAttempts: 4 },
});

/**
 * Exports the latest version of the video's content (every type, or the requested ones) to Google
 * Drive in the requested formats, through the same idempotent activity as the import's export.
 * Upload failures (permissions, a full Drive) are in the outcome and the upload rows, not a failed run.
 */
export async function videoExportWorkflow(input: VideoExportInput): Promise<ExportOutcome> {
  return trackRun({ type: VIDEO_EXPORT_JOB_TYPE, userId: input.userId, domainId: input.videoId }, async (run) => {
    await run.stage('preparing', 5);
    const contentIds = await database.listExportableContent({ videoId: input.videoId, contentTypes: input.contentTypes });
    if (contentIds.length === 0)
      throw ApplicationFailure.nonRetryable('the video has none of the requested content to export', FailureType.InvalidInput);
    await run.stage('exporting', 20, { files: contentIds.length * input.formats.length });
    const outcome = await drive.exportVideoContent({ videoId: input.videoId, userId: input.userId, contentIds, formats: input.formats });
    await run.stage('completed', 100, { uploaded: outcome.uploaded, failed: outcome.failed });
    return outcome;
  });
}
