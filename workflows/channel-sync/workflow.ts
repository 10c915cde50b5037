import { continueAsNew, executeChild, ParentClosePolicy, proxyActivities, startChild, WorkflowIdReusePolicy } from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { ChannelSyncActivities } from '../../activities/channel-sync';
import type { VideoImportInput } from '../../schemas/video-import';
import { databaseWrites } from '../common/activity-options';
import { videoImportRun, videoImportWorkflowId } from '../video-import/contract';
import type { videoImportWorkflow } from '../video-import/workflow';
import {
  CHANNEL_SYNC_BATCH_SIZE,
  CHANNEL_SYNC_PAGES_PER_RUN,
  channelSyncWorkflowId,
  type ChannelSyncInput,
  type ChannelSyncResult,
  type ChannelSyncSweepInput,
  type ChannelSyncSweepResult,
} from './contract';

const database = proxyActivities<ChannelSyncActivities>(databaseWrites());

// YouTube calls may park until the daily quota resets (a retryable QuotaExceeded with
// nextRetryDelay), so attempts are capped by count rather than by a schedule-to-close deadline.
const youtube = proxyActivities<ChannelSyncActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', maximumAttempts: 10 },
});

/** Starts the import of one new upload as the API would (same id, so an import already going is joined, never doubled); it outlives this sync. */
async function startImport(input: VideoImportInput): Promise<boolean> {
  try {
    await startChild<typeof videoImportWorkflow>(videoImportRun.workflowType, {
      workflowId: videoImportWorkflowId(input.videoId),
      args: [input],
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
      parentClosePolicy: ParentClosePolicy.ABANDON,
    });
    return true;
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return false;
    throw err;
  }
}

/**
 * One channel's auto-import: lists the uploads published since its last sync, starts one import
 * per new upload, then records how far it got and the channel's counters. A crash before the
 * record lists the same uploads again next time; their rows and import ids keep them single.
 */
export async function channelSyncWorkflow(input: ChannelSyncInput): Promise<ChannelSyncResult> {
  const listing = await youtube.listNewChannelUploads({ channelRowId: input.channelRowId });
  if (listing.status === 'skipped') return { imports: 0, skipped: listing.reason };
  let imports = 0;
  for (const upload of listing.imports) if (await startImport(upload)) imports += 1;
  await database.recordChannelSynced({
    channelRowId: input.channelRowId,
    syncedThrough: listing.syncedThrough,
    subscriberCount: listing.subscriberCount,
    videoCount: listing.videoCount,
  });
  return { imports };
}

async function syncChannel(channelRowId: string): Promise<ChannelSyncResult> {
  try {
    return await executeChild(channelSyncWorkflow, { workflowId: channelSyncWorkflowId(channelRowId), args: [{ channelRowId }] });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return { imports: 0, skipped: 'already-syncing' };
    throw err;
  }
}

/**
 * What the `channel-sync` schedule starts: every auto-import channel, a page at a time, each
 * page's channels synced in parallel as child workflows. A channel whose sync fails is left for
 * the next sweep; it does not stop the others.
 */
export async function channelSyncSweepWorkflow(input: ChannelSyncSweepInput = {}): Promise<ChannelSyncSweepResult> {
  const batchSize = input.batchSize ?? CHANNEL_SYNC_BATCH_SIZE;
  const totals: ChannelSyncSweepResult = input.carried ?? { channels: 0, imports: 0 };
  let afterId = input.afterId ?? null;
  for (let page = 0; page < CHANNEL_SYNC_PAGES_PER_RUN; page += 1) {
    const channels = await database.listChannelsDueForSync({ afterId, limit: batchSize });
    const synced = await Promise.allSettled(channels.map(syncChannel));
    totals.channels += channels.length;
    for (const result of synced) if (result.status === 'fulfilled') totals.imports += result.value.imports;
    if (channels.length < batchSize) return totals;
    afterId = channels[channels.length - 1] ?? afterId;
  }
  return continueAsNew<typeof channelSyncSweepWorkflow>({ afterId, batchSize, carried: totals });
}
