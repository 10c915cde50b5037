import { defineRun, OPS_RUN } from '../common/run-definition';
import type { channelSyncSweepWorkflow } from './workflow';

/** Channel auto-import (AmplifyContent): names shared by the worker, the schedule and tests. */
export const CHANNEL_SYNC_SWEEP_WORKFLOW_TYPE = 'channelSyncSweepWorkflow';
export const CHANNEL_SYNC_SWEEP_JOB_TYPE = 'channel-sync-sweep';

/** The Temporal Schedule (per task-queue prefix, so parallel stacks never share one). */
export const channelSyncScheduleId = (prefix = ''): string => `${prefix}channel-sync`;
/** One sync of a channel at a time: a second sweep reaching it while it syncs leaves it alone. */
export const channelSyncWorkflowId = (channelRowId: string): string => `channel-sync:${channelRowId}`;

/** How often the schedule sweeps every auto-import channel (each sweep costs a channel about 2 quota units). */
export const CHANNEL_SYNC_INTERVAL = '15 minutes';
/** Channels per page of the sweep, synced in parallel as child workflows. */
export const CHANNEL_SYNC_BATCH_SIZE = 20;
/** Pages per sweep run before it continues as new, keeping its history short. */
export const CHANNEL_SYNC_PAGES_PER_RUN = 25;

export interface ChannelSyncSweepInput {
  /** The last channel row visited by the run this one continues. */
  afterId?: string | null;
  /** Channels per page; CHANNEL_SYNC_BATCH_SIZE unless a test wants many pages from few channels. */
  batchSize?: number;
  /** Totals of the runs this one continues. */
  carried?: ChannelSyncSweepResult;
}

export interface ChannelSyncSweepResult {
  channels: number;
  imports: number;
}

export interface ChannelSyncInput {
  channelRowId: string;
}

export interface ChannelSyncResult {
  /** Imports started for new uploads (an upload already being imported is not started again). */
  imports: number;
  skipped?: 'auto-import-off' | 'not-in-plan' | 'expired' | 'already-syncing';
}

/**
 * The `channel-sync` schedule's action (and what a test or an operator starts by hand): no owner,
 * no job_runs row; each import it starts keeps its own.
 */
export const channelSyncSweepRun = defineRun<typeof channelSyncSweepWorkflow>({
  workflowType: CHANNEL_SYNC_SWEEP_WORKFLOW_TYPE,
  jobType: CHANNEL_SYNC_SWEEP_JOB_TYPE,
  keysOf: () => ({ userId: null }),
  ...OPS_RUN,
});
