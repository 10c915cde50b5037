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
    const worker = await Worker.create({
      connection: env().nativeConnection,
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities,
    });
    return worker.runUntil(fn(taskQueue));
  };
}

/** One call of a recorded fake activity. */
export interface RecordedCall {
  name: string;
  args: any[];
  /** The first argument: most activities take one input object. */
  input: any;
  /** Server (time-skipped) time the attempt was scheduled. */
  at: number;
  queue: string;
  attempt: number;
  /** Run as a local activity (in the workflow's worker, no server round trip). */
  local: boolean;
  /** How the implementation ended; unset while it runs. */
  settled?: 'returned' | 'threw';
}

type FakeImpl = (...args: any[]) => unknown;

/**
 * Fake activities for workflow tests: each call is recorded (name, arguments, scheduled time,
 * queue, attempt, local or not, how it ended) before and after running its implementation;
 * `overrides` replace implementations by name.
 */
export function recordingActivities(impls: Record<string, FakeImpl>, overrides: Record<string, FakeImpl | undefined> = {}) {
  const calls: RecordedCall[] = [];
  const activities = Object.fromEntries(
    Object.entries(impls).map(([name, impl]) => [
      name,
      async (...args: any[]) => {
        const { info } = Context.current();
        const call: RecordedCall = {
          name,
          args,
          input: args[0],
          at: info.currentAttemptScheduledTimestampMs,
          queue: info.taskQueue,
          attempt: info.attempt,
          local: info.isLocal,
        };
        calls.push(call);
        try {
          const result = await (overrides[name] ?? impl)(...args);
          call.settled = 'returned';
          return result;
        } catch (err) {
          call.settled = 'threw';
          throw err;
        }
      },
    ]),
  );
  const named = (name: string) => calls.filter((c) => c.name === name);
  /** The `index`-th argument of every call of `name`. */
  const args = <T>(name: string, index = 0): T[] => named(name).map((c) => c.args[index] as T);
  return { activities, calls, named, args };
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
