import { randomUUID } from 'node:crypto';
import type { SmokeWorkflowInput } from '../schemas/smoke';
import { SMOKE_WORKFLOW_TYPE, smokeWorkflowId } from '../workflows/smoke/contract';
import { atLeastTimes, atMostTimes, type BenchmarkContext, type BenchmarkModule, type BenchmarkResult } from './lib/result';
import type { BenchStack } from './lib/stack';
import { runBounded, summarize, timed } from './lib/stats';
import { withOursAndBareWorkers, type WorkerQueues } from './lib/workers';

const SIZES = {
  quick: { latencyN: 15, throughputN: 40, concurrency: 10, warmup: 3 },
  full: { latencyN: 200, throughputN: 1000, concurrency: 50, warmup: 20 },
};

type Starter = (index: number) => Promise<unknown>;

function starters(stack: BenchStack, queues: WorkerQueues, steps: number): { ours: Starter; bare: Starter } {
  const { workflow } = stack.client;
  return {
    ours: (i) =>
      workflow.execute(SMOKE_WORKFLOW_TYPE, {
        taskQueue: queues.ours,
        workflowId: smokeWorkflowId(randomUUID()),
        args: [{ name: `bench-${i}`, delayMs: 0, userId: null } satisfies SmokeWorkflowInput],
      }),
    bare: () => workflow.execute('bareActivitiesWorkflow', { taskQueue: queues.bare, workflowId: `bare:${randomUUID()}`, args: [steps] }),
  };
}

/** How many activities one smoke run schedules, read from a real run's history rather than assumed. */
async function activityCount(stack: BenchStack, queues: WorkerQueues): Promise<number> {
  const workflowId = smokeWorkflowId(randomUUID());
  await stack.client.workflow.execute(SMOKE_WORKFLOW_TYPE, {
    taskQueue: queues.ours,
    workflowId,
    args: [{ name: 'bench-probe', delayMs: 0, userId: null } satisfies SmokeWorkflowInput],
  });
  const history = await stack.client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes).length;
}

/** Completed workflows per second with `concurrency` in flight. */
async function throughput(start: Starter, count: number, concurrency: number): Promise<number> {
  const wallMs = await timed(() => runBounded(count, concurrency, async (i) => void (await start(i))));
  return (count * 1000) / wallMs;
}

/**
 * B1: our smoke workflow (run tracking in PostgreSQL + one database activity) against a bare
 * workflow running the same number of no-op activities, on workers with identical options.
 */
export function orchestrationBenchmark(stack: () => Promise<BenchStack>): BenchmarkModule {
  return {
    id: 'B1',
    title: 'Orchestration overhead: smoke workflow vs bare workflow, same activity count',
    async run(context: BenchmarkContext): Promise<BenchmarkResult> {
      const size = context.quick ? SIZES.quick : SIZES.full;
      const s = await stack();
      return withOursAndBareWorkers(s, async (queues) => {
        const steps = await activityCount(s, queues);
        const start = starters(s, queues, steps);
        context.log(`B1 warm-up (${size.warmup} each), ${steps} activities per run`);
        for (let i = 0; i < size.warmup; i++) {
          await start.ours(i);
          await start.bare(i);
        }
        context.log(`B1 latency, ${size.latencyN} sequential runs each (interleaved)`);
        const latency = { ours: [] as number[], bare: [] as number[] };
        for (let i = 0; i < size.latencyN; i++) {
          latency.ours.push(await timed(() => start.ours(i)));
          latency.bare.push(await timed(() => start.bare(i)));
        }
        context.log(`B1 throughput, ${size.throughputN} runs each at concurrency ${size.concurrency} (ours, bare, bare, ours)`);
        const half = Math.ceil(size.throughputN / 2);
        const rates = { ours: [] as number[], bare: [] as number[] };
        rates.ours.push(await throughput(start.ours, half, size.concurrency));
        rates.bare.push(await throughput(start.bare, half, size.concurrency));
        rates.bare.push(await throughput(start.bare, half, size.concurrency));
        rates.ours.push(await throughput(start.ours, half, size.concurrency));
        const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
        const ours = { latencyMs: summarize(latency.ours), throughputPerSec: mean(rates.ours) };
        const bare = { latencyMs: summarize(latency.bare), throughputPerSec: mean(rates.bare) };
        return {
          id: 'B1',
          title: this.title,
          status: 'measured',
          n: size.latencyN,
          warmup: size.warmup,
          concurrency: size.concurrency,
          series: [
            { label: 'smoke workflow (trackRun + greeting activity)', role: 'ours', ...ours },
            { label: `bare workflow, ${steps} no-op activities`, role: 'baseline', ...bare },
          ],
          checks: [
            atLeastTimes('throughput', ours.throughputPerSec, bare.throughputPerSec, 0.9),
            atMostTimes('p50 start-to-result latency', ours.latencyMs.p50, bare.latencyMs.p50, 1.1),
          ],
          notes: [
            'The issue names the video-import workflow; this run uses the smoke workflow (same run-tracking path, no provider calls) because video-import with zero-latency sandboxes is not wired for benchmarking yet.',
            `Latency: start → result, sequential. Throughput: ${size.throughputN} runs per series at concurrency ${size.concurrency}, in ABBA order to spread load drift.`,
          ],
        };
      });
    },
  };
}
