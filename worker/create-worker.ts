import { type NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { availableParallelism } from 'node:os';
import type { Activities, MediaActivities } from '../activities';

export interface WorkerSetup {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: Activities;
  /** A prebuilt bundle (WORKFLOW_BUNDLE_PATH; tests build one per run); otherwise webpack bundles workflows/ at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  maxConcurrentActivityTaskExecutions?: number;
  maxCachedWorkflows?: number;
}

/**
 * Renders per media worker: one per two cores (an x264 re-encode keeps about two busy), and at
 * least two so one render's probe/store I/O overlaps another's encoding.
 */
export const MEDIA_ACTIVITY_SLOTS = Math.max(2, Math.floor(availableParallelism() / 2));

export const WORKFLOWS_PATH = require.resolve('../workflows');

/** The main-queue worker: every workflow plus the orchestration/I-O activities. */
export function createMainWorker(setup: WorkerSetup): Promise<Worker> {
  return Worker.create({
    connection: setup.connection,
    namespace: setup.namespace,
    taskQueue: setup.taskQueue,
    activities: setup.activities,
    ...(setup.workflowBundle ? { workflowBundle: setup.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    maxConcurrentActivityTaskExecutions: setup.maxConcurrentActivityTaskExecutions ?? 50,
    ...(setup.maxCachedWorkflows !== undefined ? { maxCachedWorkflows: setup.maxCachedWorkflows } : {}),
    shutdownGraceTime: '10 seconds',
  });
}

export interface MediaWorkerSetup {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: MediaActivities;
  /** ffmpeg is CPU-bound: a couple of renders at a time per worker. */
  maxConcurrentActivityTaskExecutions?: number;
}

/** The media-queue worker: only the ffmpeg activities, no workflows, few slots. */
export function createMediaWorker(setup: MediaWorkerSetup): Promise<Worker> {
  return Worker.create({
    connection: setup.connection,
    namespace: setup.namespace,
    taskQueue: setup.taskQueue,
    activities: setup.activities,
    maxConcurrentActivityTaskExecutions: setup.maxConcurrentActivityTaskExecutions ?? MEDIA_ACTIVITY_SLOTS,
    shutdownGraceTime: '10 seconds',
  });
}
