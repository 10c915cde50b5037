import { randomUUID } from 'node:crypto';
import { bareActivities } from './lib/bare-activities';
import { SAMPLE_TRANSCRIPT, startImportSandboxes, withImportPlatform, type ImportRequest } from './lib/import-platform';
import { atLeastTimes, atMostTimes, type BenchmarkContext, type BenchmarkModule, type BenchmarkResult } from './lib/result';
import { runWorkerDuring, type BenchStack } from './lib/stack';
import { runBounded, summarize, timed } from './lib/stats';

const SIZES = {
  quick: { latencyN: 15, throughputN: 40, concurrency: 10, warmup: 3 },
  full: { latencyN: 60, throughputN: 200, concurrency: 10, warmup: 5 },
};
/** Three AI content types: the import's bookkeeping, YouTube and Anthropic calls, each answered at once by the sandboxes. */
const REQUEST: ImportRequest = { contentTypes: ['summary', 'chapters', 'blog_post'], transcript: SAMPLE_TRANSCRIPT };

type Starter = (index: number) => Promise<unknown>;

/** Completed workflows per second with `concurrency` in flight. */
async function throughput(start: Starter, count: number, concurrency: number): Promise<number> {
  const wallMs = await timed(() => runBounded(count, concurrency, async (i) => void (await start(i))));
  return (count * 1000) / wallMs;
}

/**
 * B1: the video-import workflow through the API (run tracking, quota, metadata, transcript and
 * three AI generations against zero-latency sandboxes) against a bare workflow running the same
 * number of no-op activities one after another, on workers with the same options.
 */
export function orchestrationBenchmark(stack: () => Promise<BenchStack>): BenchmarkModule {
  return {
    id: 'B1',
    title: 'Orchestration overhead: video-import workflow vs bare workflow, same activity count',
    async run(context: BenchmarkContext): Promise<BenchmarkResult> {
      const size = context.quick ? SIZES.quick : SIZES.full;
      const s = await stack();
      const sandboxes = await startImportSandboxes(0);
      const bareQueue = `bench-bare-${randomUUID()}`;
      try {
        return await withImportPlatform(s, sandboxes.urls, {}, async (platform) =>
          runWorkerDuring(s, bareQueue, await s.benchBundle(), bareActivities, async () => {
            // Enterprise: no monthly video quota, and 20 running jobs (above the concurrency used here).
            const { authorization } = await platform.newCaller('enterprise');
            const probe = await platform.importVideo(authorization, REQUEST);
            const events = (await s.client.workflow.getHandle(probe.runId).fetchHistory()).events ?? [];
            const steps = events.filter((e) => e.activityTaskScheduledEventAttributes).length;
            const start = {
              ours: () => platform.importVideo(authorization, REQUEST),
              bare: () =>
                s.client.workflow.execute('bareActivitiesWorkflow', {
                  taskQueue: bareQueue,
                  workflowId: `bare:${randomUUID()}`,
                  args: [steps],
                }),
            };
            context.log(`B1 warm-up (${size.warmup} each), ${steps} activities per run`);
            for (let i = 0; i < size.warmup; i++) {
              await start.ours();
              await start.bare();
            }
            context.log(`B1 latency, ${size.latencyN} sequential runs each (interleaved)`);
            const latency = { ours: [] as number[], bare: [] as number[] };
            for (let i = 0; i < size.latencyN; i++) {
              latency.ours.push(await timed(start.ours));
              latency.bare.push(await timed(start.bare));
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
                {
                  label: `video-import via the API, ${REQUEST.contentTypes.length} AI content types, zero-latency sandboxes`,
                  role: 'ours',
                  ...ours,
                },
                { label: `bare workflow, ${steps} no-op activities in sequence`, role: 'baseline', ...bare },
              ],
              checks: [
                atLeastTimes('throughput', ours.throughputPerSec, bare.throughputPerSec, 0.9),
                atMostTimes('p50 start-to-result latency', ours.latencyMs.p50, bare.latencyMs.p50, 1.1),
              ],
              notes: [
                `Ours: POST /v1/videos/import (API key, quota and concurrency checks, job_runs row) → the workflow's result, with the user's transcript and ${REQUEST.contentTypes.join(', ')}; its ${steps} activities write PostgreSQL and call the YouTube and Anthropic sandboxes (no added latency). The bare workflow is started with the Temporal client directly.`,
                `Latency: start → result, sequential. Throughput: ${size.throughputN} runs per series at concurrency ${size.concurrency}, in ABBA order to spread load drift.`,
              ],
            };
          }),
        );
      } finally {
        await sandboxes.stop();
      }
    },
  };
}
