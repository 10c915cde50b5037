import { CancellationScope, ContinueAsNew, isCancellation, patched, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { RunActivities } from '../../activities/runs';
import { describeFailure } from './failures';
import { databaseWrites } from './activity-options';

const runs = proxyActivities<RunActivities>(databaseWrites());

/**
 * For long-lived runs whose job_runs row the starter registers and that keep no tracker of their
 * own (posts, subscriptions): closes the row with the result, or the error, when the run ends,
 * so the runs list is served from PostgreSQL. continueAsNew hands the open row to the next run.
 * Runs started before this patch leave their row to the API's reconciliation with Temporal.
 */
export async function closingRunRow<T>(body: () => Promise<T>): Promise<T> {
  if (!patched('close-run-row')) return body();
  const id = workflowInfo().workflowId;
  let result: T;
  try {
    result = await body();
  } catch (err) {
    if (err instanceof ContinueAsNew) throw err;
    const status = isCancellation(err) ? 'canceled' : 'failed';
    // Closing must still be recorded when the workflow itself was cancelled.
    await CancellationScope.nonCancellable(() => runs.recordRunClosed(id, { status, error: describeFailure(err) }));
    throw err;
  }
  await runs.recordRunClosed(id, { status: 'completed', result });
  return result;
}
