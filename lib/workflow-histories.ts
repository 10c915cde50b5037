import type { Client } from '@temporalio/client';

export interface RunHistoryLength {
  workflowId: string;
  runId: string;
  events: number;
}

/**
 * History length of every run reachable from one run: the runs it continued as new into and the
 * child workflows any of them started (recursively). How we check that a fan-out keeps each
 * history bounded, whatever the number of items.
 */
export async function historyLengthsFrom(client: Client, workflowId: string, runId: string, concurrency = 8): Promise<RunHistoryLength[]> {
  const lengths: RunHistoryLength[] = [];
  // Breadth first: each wave's histories name the next wave (continued-as-new runs, children).
  for (let wave = [{ workflowId, runId }]; wave.length > 0;) {
    const next: typeof wave = [];
    let index = 0;
    const fetchAll = async () => {
      for (let run = wave[index++]; run; run = wave[index++]) {
        const events = (await client.workflow.getHandle(run.workflowId, run.runId).fetchHistory()).events ?? [];
        lengths.push({ ...run, events: events.length });
        for (const event of events) {
          const child = event.childWorkflowExecutionStartedEventAttributes?.workflowExecution;
          if (child?.workflowId && child.runId) next.push({ workflowId: child.workflowId, runId: child.runId });
          const continued = event.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
          if (continued) next.push({ workflowId: run.workflowId, runId: continued });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, wave.length) }, fetchAll));
    wave = next;
  }
  return lengths;
}
