import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { FailureType } from '../schemas/failures';

/** Well inside the shortest heartbeat timeout of our workflows (5 s), so a dead worker's task is retried in seconds. */
const HEARTBEAT_INTERVAL_MS = 1_000;

/** A failure no retry can fix, typed from the shared vocabulary so workflows and the API can read it. */
export const nonRetryable = (message: string, type: FailureType): ApplicationFailure => ApplicationFailure.nonRetryable(message, type);

/**
 * Keeps the current activity heartbeating while `work` runs; a cancel reaches the activity only
 * through heartbeats. `report` sends new details at once, and later beats repeat them.
 */
export async function heartbeating<T>(work: (report: (details: unknown) => void) => Promise<T>): Promise<T> {
  const ctx = Context.current();
  let details: unknown;
  const timer = setInterval(() => ctx.heartbeat(details), HEARTBEAT_INTERVAL_MS);
  try {
    return await work((next) => {
      details = next;
      ctx.heartbeat(details);
    });
  } finally {
    clearInterval(timer);
  }
}

/** Settles with `work`, or rejects with the activity's cancellation first: for calls that cannot be aborted. */
export function unlessCancelled<T>(work: Promise<T>): Promise<T> {
  return Promise.race([work, Context.current().cancelled]);
}
