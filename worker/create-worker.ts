import { type NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { DataConverter } from '@temporalio/common';
import { availableParallelism } from 'node:os';
import type { Activities, MediaActivities } from '../activities';
import type { WorkerMetrics } from '../lib/metrics';
import { withObservability } from './interceptors';
import { SHARED_WORKFLOW_MODULES } from './workflow-bundle';
import { tracingWorkerOptions } from './tracing';

export interface WorkerSetup {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: Activities;
  /** The payload codec (lib/payload-codec.ts), the same as the clients': workers decode what clients encode. */
  dataConverter: DataConverter;
  /** A prebuilt bundle (WORKFLOW_BUNDLE_PATH; tests build one per run); otherwise webpack bundles workflows/ at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  maxConcurrentActivityTaskExecutions?: number;
  maxCachedWorkflows?: number;
  /** Run, activity, provider metrics (lib/metrics.ts); none recorded without. */
  metrics?: WorkerMetrics;
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
    dataConverter: setup.dataConverter,
    ...(setup.workflowBundle
      ? { workflowBundle: setup.workflowBundle }
      : { workflowsPath: WORKFLOWS_PATH, bundlerOptions: { preloadModules: SHARED_WORKFLOW_MODULES } }),
    maxConcurrentActivityTaskExecutions: setup.maxConcurrentActivityTaskExecutions ?? 50,
    ...(setup.maxCachedWorkflows !== undefined ? { maxCachedWorkflows: setup.maxCachedWorkflows } : {}),
    ...withObservability(tracingWorkerOptions({ workflows: true, prebuiltBundle: setup.workflowBundle !== undefined }), setup.metrics, {
      workflows: true,
      prebuiltBundle: setup.workflowBundle !== undefined,
    }),
    shutdownGraceTime: '10 seconds',
  });
}

export interface MediaWorkerSetup {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: MediaActivities;
  dataConverter: DataConverter;
  /** ffmpeg is CPU-bound: a couple of renders at a time per worker. */
  maxConcurrentActivityTaskExecutions?: number;
  /** Activity metrics (lib/metrics.ts); none recorded without. */
  metrics?: WorkerMetrics;
}

/** The media-queue worker: only the ffmpeg activities, no workflows, few slots. */
export function createMediaWorker(setup: MediaWorkerSetup): Promise<Worker> {
  return Worker.create({
    connection: setup.connection,
    namespace: setup.namespace,
    taskQueue: setup.taskQueue,
    activities: setup.activities,
    dataConverter: setup.dataConverter,
    maxConcurrentActivityTaskExecutions: setup.maxConcurrentActivityTaskExecutions ?? MEDIA_ACTIVITY_SLOTS,
    ...withObservability(tracingWorkerOptions({ workflows: false, prebuiltBundle: false }), setup.metrics, {
      workflows: false,
      prebuiltBundle: false,
    }),
    shutdownGraceTime: '10 seconds',
  });
}
