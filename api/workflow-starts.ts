import type { Client, ScheduleOptionsStartWorkflowAction, WorkflowSignalWithStartOptions, WorkflowStartOptions } from '@temporalio/client';
import {
  TypedSearchAttributes,
  type SearchAttributePair,
  type SignalDefinition,
  type WithWorkflowArgs,
  type Workflow,
} from '@temporalio/common';
import type { RunDefinition, RunKeys } from '../workflows/common/run-definition';
import { currentLogContext } from '../lib/log-context';
import { DomainIdAttr, JobTypeAttr, UserIdAttr, VideoIdAttr } from '../lib/search-attributes';
import type { TaskQueues } from '../lib/task-queues';

/**
 * The one place a workflow is started or signal-with-started. Every route, webhook, sweep and
 * schedule passes its contract's RunDefinition, which carries the id policies, task queue and
 * search attributes; args are typed by the workflow function (`import type` in the contract).
 * The API goes through run-starter.ts (job_runs row, concurrency cap, plan priority); the
 * composition root's sweeps and schedules call these directly.
 */
export interface DefinedStart<W extends Workflow> {
  workflowId: string;
  args: Parameters<W>;
  /** The owner when the input does not name one (a subscription's user, a grant's grantee). */
  userId?: string | null;
  /** Temporal priority key (1 is served first); the server default otherwise. */
  priorityKey?: number;
}

/** The run's keys: its input's, with the starter's owner where the input has none. */
export function runKeysOf<W extends Workflow>(definition: RunDefinition<W>, start: DefinedStart<W>): RunKeys & { userId: string | null } {
  const keys = definition.keysOf(start.args[0] as Parameters<W>[0]);
  return { ...keys, userId: keys.userId ?? start.userId ?? null };
}

function startOptions<W extends Workflow>(definition: RunDefinition<W>, queues: TaskQueues, start: DefinedStart<W>) {
  const keys = runKeysOf(definition, start);
  const attributes: SearchAttributePair[] = [{ key: JobTypeAttr, value: definition.jobType }];
  if (keys.userId) attributes.push({ key: UserIdAttr, value: keys.userId });
  if (keys.domainId) attributes.push({ key: DomainIdAttr, value: keys.domainId });
  if (keys.videoId) attributes.push({ key: VideoIdAttr, value: keys.videoId });
  // The API request (or the run whose activity starts this one) that caused the start: the run's
  // workflow logs and activities log it (workflows/common/interceptors.ts), so one grep follows it.
  const { requestId } = currentLogContext();
  return {
    workflowId: start.workflowId,
    taskQueue: queues[definition.taskQueue],
    args: start.args,
    workflowIdConflictPolicy: definition.idConflictPolicy,
    workflowIdReusePolicy: definition.idReusePolicy,
    typedSearchAttributes: new TypedSearchAttributes(attributes),
    memo: { jobType: definition.jobType, ...(keys.userId ? { userId: keys.userId } : {}), ...(requestId ? { requestId } : {}) },
    ...(start.priorityKey === undefined ? {} : { priority: { priorityKey: start.priorityKey } }),
  };
}

// The casts below only restate `args: Parameters<W>`, which TypeScript cannot match against the
// client's conditional WithWorkflowArgs while W is still generic.

export async function startDefinedWorkflow<W extends Workflow>(
  client: Client,
  queues: TaskQueues,
  definition: RunDefinition<W>,
  start: DefinedStart<W>,
): Promise<void> {
  await client.workflow.start<W>(definition.workflowType, startOptions(definition, queues, start) as unknown as WorkflowStartOptions<W>);
}

export async function signalWithStartDefinedWorkflow<W extends Workflow, SA extends unknown[]>(
  client: Client,
  queues: TaskQueues,
  definition: RunDefinition<W>,
  start: DefinedStart<W> & { signal: SignalDefinition<SA>; signalArgs: SA },
): Promise<void> {
  const options = { ...startOptions(definition, queues, start), signal: start.signal, signalArgs: start.signalArgs };
  await client.workflow.signalWithStart<W, SA>(
    definition.workflowType,
    options as unknown as WithWorkflowArgs<W, WorkflowSignalWithStartOptions<SA>>,
  );
}

/** A Schedule's action for a defined run (schedules apply their own overlap policy instead of id policies). */
export function scheduledStartAction<W extends Workflow>(
  definition: RunDefinition<W>,
  queues: TaskQueues,
  start: DefinedStart<W>,
): ScheduleOptionsStartWorkflowAction<W> {
  const { workflowId, taskQueue, args, typedSearchAttributes, memo: startMemo } = startOptions(definition, queues, start);
  // Every scheduled run would otherwise log the request that created the Schedule.
  const { requestId: _createdBy, ...memo } = startMemo;
  return {
    type: 'startWorkflow',
    workflowType: definition.workflowType,
    workflowId,
    taskQueue,
    args,
    typedSearchAttributes,
    memo,
  } as unknown as ScheduleOptionsStartWorkflowAction<W>;
}
