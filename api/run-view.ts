import { Client, QueryRejectedError, WorkflowNotFoundError, type WorkflowExecutionStatusName } from '@temporalio/client';
import { closeRun, findRun, type RunClosure } from '../db/repositories/runs';
import type { JobRun, RunStatus } from '../db/types';
import type { RunView } from '../schemas/api-runs';
import { RunProgressSchema } from '../schemas/runs';
import { progressQuery } from '../workflows/common/progress';
import { isoOrNull, isoTimestamp } from './dates';
import type { ApiDeps } from './deps';

/** How long a describe or progress query may take before the API answers from PostgreSQL. */
const TEMPORAL_CALL_DEADLINE_MS = 3000;

const STATUS_BY_TEMPORAL: Partial<Record<WorkflowExecutionStatusName, RunStatus>> = {
  RUNNING: 'running',
  CONTINUED_AS_NEW: 'running',
  PAUSED: 'running',
  COMPLETED: 'completed',
  FAILED: 'failed',
  CANCELLED: 'canceled',
  TERMINATED: 'terminated',
  TIMED_OUT: 'timed_out',
};

export function runRowToView(row: JobRun): RunView {
  return {
    id: row.id,
    type: row.type,
    status: row.status,
    stage: row.stage,
    progress: row.progress,
    startedAt: isoTimestamp(row.started_at),
    closedAt: isoOrNull(row.closed_at),
    ...(row.result !== null ? { result: row.result } : {}),
    ...(row.error_type ? { error: { type: row.error_type, message: row.error_message ?? '' } } : {}),
  };
}

type RunDeps = Pick<ApiDeps, 'db' | 'temporal' | 'logger'>;

const withDeadline = <T>(deps: RunDeps, fn: () => Promise<T>): Promise<T> =>
  deps.temporal.withDeadline(Date.now() + TEMPORAL_CALL_DEADLINE_MS, fn);

/**
 * A workflow Temporal has closed while its row still says running: terminated or timed out
 * (the workflow could not record that itself), or a workflow without run tracking.
 */
async function closeRowFromTemporal(deps: RunDeps, id: string, status: Exclude<RunStatus, 'running'>): Promise<JobRun | undefined> {
  const fresh = await findRun(deps.db, id);
  if (!fresh || fresh.status !== 'running') return fresh;
  const closure: RunClosure =
    status === 'completed'
      ? {
          status,
          result: await deps.temporal.workflow
            .getHandle(id)
            .result()
            .catch(() => undefined),
        }
      : {
          status,
          error: {
            type: status === 'timed_out' ? 'TimedOut' : status === 'terminated' ? 'Terminated' : 'WorkflowClosed',
            message: `the workflow was ${status.replace('_', ' ')} in Temporal`,
          },
        };
  await closeRun(deps.db, id, closure);
  return findRun(deps.db, id);
}

/**
 * The Temporal status of a run the database thinks is running, closing its row when Temporal
 * has closed it. 'unknown' when Temporal has no such workflow (yet) or does not answer in time.
 */
export async function reconcileRunningRun(deps: RunDeps, id: string): Promise<{ status: RunStatus | 'unknown'; row?: JobRun }> {
  let name: WorkflowExecutionStatusName;
  try {
    name = (await withDeadline(deps, () => deps.temporal.workflow.getHandle(id).describe())).status.name;
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) deps.logger.warn({ err, runId: id }, 'describe failed; answering from PostgreSQL');
    return { status: 'unknown' };
  }
  const status = STATUS_BY_TEMPORAL[name] ?? 'running';
  if (status === 'running') return { status };
  return { status, row: await closeRowFromTemporal(deps, id, status) };
}

const openOnlyClients = new WeakMap<Client, Client>();
/**
 * The API's client, except that queries are rejected by closed workflows: a status read then
 * costs one Temporal call (the progress query), and only a closed workflow needs a describe.
 */
function openOnlyClient(client: Client): Client {
  let open = openOnlyClients.get(client);
  if (!open) {
    const { namespace, dataConverter, identity, interceptors } = client.options;
    open = new Client({
      connection: client.connection,
      namespace,
      dataConverter,
      identity,
      interceptors,
      workflow: { queryRejectCondition: 'NOT_OPEN' },
    });
    openOnlyClients.set(client, open);
  }
  return open;
}

/** Live view of one run: the workflow's progress query while running, the row once closed. */
export async function liveRunView(deps: RunDeps, row: JobRun): Promise<RunView> {
  if (row.status !== 'running') return runRowToView(row);
  const answer = await withDeadline(deps, () => openOnlyClient(deps.temporal).workflow.getHandle(row.id).query(progressQuery)).catch(
    (err: unknown) => err,
  );
  if (answer instanceof QueryRejectedError) {
    // Temporal closed the workflow while its row still says running: close the row from Temporal's status.
    const temporal = await reconcileRunningRun(deps, row.id);
    return runRowToView(temporal.row ?? row);
  }
  const progress = RunProgressSchema.safeParse(answer);
  // Before the first workflow task the query has no answer yet, and an unknown workflow or a
  // timed-out query has none: the row's state stands.
  if (!progress.success) return runRowToView(row);
  return { ...runRowToView(row), stage: progress.data.stage, progress: progress.data.progress, counters: progress.data.counters };
}
