import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import type { SmokeWorkflowInput } from '../schemas/smoke';
import { SMOKE_WORKFLOW_TYPE, smokeWorkflowId } from '../workflows/smoke/contract';
import { firstTimerTiming, type TimerTiming } from './lib/history';
import { atMostTimes, type BenchmarkContext, type BenchmarkModule, type BenchmarkResult, type Series } from './lib/result';
import type { BenchStack } from './lib/stack';
import { runBounded, summarize } from './lib/stats';
import { withOursAndBareWorkers, type WorkerQueues } from './lib/workers';

// 5,000 at once took the dev server's single shard ~9 min for both phases (bare p99 lateness 50 s), too long for the full run's 20 minutes.
const SIZES = { quick: { n: 200, concurrency: 20 }, full: { n: 2000, concurrency: 50 } };
/** Starting the runs must finish before the shared due instant; a generous per-run allowance. */
const LEAD_MS_PER_RUN = 30;
const MIN_LEAD_MS = 8000;

interface Phase {
  lateness: number[];
  /** Last completion after the shared due instant. */
  allDoneMs: number;
  startsFinishedBeforeDue: boolean;
  missing: number;
}

async function timerPhase(count: number, concurrency: number, start: (delayMs: number) => Promise<WorkflowHandle>): Promise<Phase> {
  const dueAt = Date.now() + Math.max(MIN_LEAD_MS, count * LEAD_MS_PER_RUN);
  const handles: WorkflowHandle[] = [];
  await runBounded(count, concurrency, async () => void handles.push(await start(Math.max(1, dueAt - Date.now()))));
  const startsFinishedBeforeDue = Date.now() < dueAt;
  await runBounded(handles.length, concurrency, async (i) => void (await handles[i]?.result()));
  const timings: TimerTiming[] = [];
  await runBounded(handles.length, concurrency, async (i) => {
    const history = await handles[i]?.fetchHistory();
    const timing = firstTimerTiming(history?.events ?? []);
    if (timing) timings.push(timing);
  });
  return {
    lateness: timings.map((t) => t.handledMs - t.dueMs),
    allDoneMs: Math.max(...timings.map((t) => t.completedMs)) - dueAt,
    startsFinishedBeforeDue,
    missing: count - timings.length,
  };
}

function phases(stack: BenchStack, queues: WorkerQueues) {
  const { workflow } = stack.client;
  return {
    ours: (delayMs: number) =>
      workflow.start(SMOKE_WORKFLOW_TYPE, {
        taskQueue: queues.ours,
        workflowId: smokeWorkflowId(randomUUID()),
        args: [{ name: 'bench-timer', delayMs, userId: null } satisfies SmokeWorkflowInput],
      }),
    bare: (delayMs: number) =>
      workflow.start('bareSleepWorkflow', { taskQueue: queues.bare, workflowId: `bare-sleep:${randomUUID()}`, args: [delayMs] }),
  };
}

/**
 * B5: N durable timers due at the same instant. Lateness is read from each run's history:
 * (first workflow task completed after TimerFired) − (TimerStarted + timeout), i.e. how late the
 * worker acted on the timer, the same definition for ours and the bare sleep.
 */
export function timersBenchmark(stack: () => Promise<BenchStack>): BenchmarkModule {
  return {
    id: 'B5',
    title: 'Timers: N runs due at the same instant vs N bare sleep workflows',
    async run(context: BenchmarkContext): Promise<BenchmarkResult> {
      const size = context.quick ? SIZES.quick : SIZES.full;
      const s = await stack();
      return withOursAndBareWorkers(s, async (queues) => {
        const start = phases(s, queues);
        context.log(`B5 ours: ${size.n} smoke runs sleeping until one instant`);
        const ours = await timerPhase(size.n, size.concurrency, start.ours);
        context.log(`B5 bare: ${size.n} bare sleep workflows`);
        const bare = await timerPhase(size.n, size.concurrency, start.bare);
        const series: Series[] = [
          {
            label: 'smoke workflow timer (trackRun + sleep + activity)',
            role: 'ours',
            latencyMs: summarize(ours.lateness),
            errors: ours.missing,
          },
          { label: 'bare sleep workflow', role: 'baseline', latencyMs: summarize(bare.lateness), errors: bare.missing },
        ];
        const [oursLate, bareLate] = [series[0]?.latencyMs, series[1]?.latencyMs];
        const notes = [
          'The issue names the posting workflow (workflows/posts); it needs social accounts, post rows and the social sandbox per run, so this run measures the durable-timer path of the smoke workflow (trackRun bookkeeping activities, sleep, then an activity) against a workflow that only sleeps. Say so when quoting it.',
          'Each smoke run starts its sleep after two bookkeeping activities, so its due instants spread by their latency; lateness is measured against each run’s own due time.',
          `Time until all done after the shared due instant: ours ${Math.round(ours.allDoneMs)} ms, bare ${Math.round(bare.allDoneMs)} ms.`,
          'Latency columns for B5 are timer lateness (ms), not request latency.',
        ];
        if (!ours.startsFinishedBeforeDue || !bare.startsFinishedBeforeDue)
          notes.push(
            'Starting the runs took longer than the lead time, so some timers were due before all runs existed: lateness is overstated.',
          );
        return {
          id: 'B5',
          title: this.title,
          status: 'measured',
          n: size.n,
          warmup: 0,
          concurrency: size.concurrency,
          series,
          checks: [atMostTimes('timer lateness p99', oursLate?.p99 ?? Number.NaN, bareLate?.p99 ?? Number.NaN, 1.2)],
          notes,
        };
      });
    },
  };
}
