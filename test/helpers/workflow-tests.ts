import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { workflowBundle } from './temporal';

/**
 * Runs `fn` while a worker with the production workflow bundle and the given (fake) activities
 * polls a fresh task queue of the test environment; each call gets its own queue.
 */
export function workerRunner(env: () => TestWorkflowEnvironment, queuePrefix: string) {
  let count = 0;
  return async function withWorker<T>(activities: object, fn: (taskQueue: string) => Promise<T>): Promise<T> {
    const taskQueue = `${queuePrefix}-${++count}`;
    const worker = await Worker.create({ connection: env().nativeConnection, taskQueue, workflowBundle: await workflowBundle(), activities });
    return worker.runUntil(fn(taskQueue));
  };
}

/** The ApplicationFailure type and message a workflow run failed with (fails the test if it succeeded). */
export async function failureOf(promise: Promise<unknown>): Promise<{ type?: string; message: string }> {
  const err: any = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeDefined();
  const cause = err.cause instanceof ApplicationFailure ? err.cause : err.cause?.cause;
  return { type: cause?.type, message: cause?.message ?? err.message };
}

/**
 * A fake activity that blocks like a long call, heartbeating `details` until it is cancelled;
 * `onCancelled` hears of each cancellation it acknowledged.
 */
export async function untilCancelled(details?: unknown, onCancelled?: (activityType: string) => void): Promise<never> {
  const ctx = Context.current();
  const beat = setInterval(() => ctx.heartbeat(details), 100);
  try {
    return await ctx.cancelled;
  } catch (err) {
    onCancelled?.(ctx.info.activityType);
    throw err;
  } finally {
    clearInterval(beat);
  }
}
