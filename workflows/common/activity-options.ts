import { ActivityCancellationType, type ActivityOptions, type RetryPolicy } from '@temporalio/workflow';

/**
 * A short PostgreSQL write: retried quickly for as long as it takes (a database restart is
 * waited out), unless the caller bounds it.
 */
export const databaseWrites = (retry: RetryPolicy = {}): ActivityOptions => ({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '500 milliseconds', maximumInterval: '10 seconds', ...retry },
});

/**
 * CPU-bound work on the media worker's queue. It heartbeats, so a dead worker's task is retried
 * within seconds; a cancel reaches ffmpeg through the heartbeat and is waited for, so a run closes
 * only once none of its renders is left.
 */
export const mediaQueueWork = (
  taskQueue: string,
  startToCloseTimeout: ActivityOptions['startToCloseTimeout'],
  retry: RetryPolicy,
): ActivityOptions => ({
  taskQueue,
  startToCloseTimeout,
  heartbeatTimeout: '15 seconds',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry,
});
