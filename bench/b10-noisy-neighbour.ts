import { protoMs } from './lib/history';
import { startImportSandboxes, SAMPLE_TRANSCRIPT, withImportPlatform, type ImportPlatform } from './lib/import-platform';
import { atMostTimes, type BenchmarkContext, type BenchmarkModule, type BenchmarkResult } from './lib/result';
import type { BenchStack } from './lib/stack';
import { summarize } from './lib/stats';

const SIZES = { quick: { n: 2, warmup: 1, flood: 40 }, full: { n: 5, warmup: 1, flood: 200 } };
/** Each Anthropic call answers after this long, so imports spend their time where users would compete: the provider limiter. */
const AI_LATENCY_MS = 300;
const CONTENT_TYPES = ['summary', 'chapters', 'blog_post'];
/** User A's client keeps this many imports asking at once; the API admits the plan's running-job cap of them. */
const FLOOD_CLIENTS = 30;

type History = Awaited<ReturnType<ReturnType<BenchStack['client']['workflow']['getHandle']>['fetchHistory']>>;

/** Workflow and activity tasks' time from scheduled to started, summed over one run's history. */
function queueWaitMs(history: History): number {
  const events = history.events ?? [];
  const at = new Map(events.map((e) => [String(e.eventId), protoMs(e.eventTime)]));
  let total = 0;
  for (const e of events) {
    const scheduledId = e.workflowTaskStartedEventAttributes?.scheduledEventId ?? e.activityTaskStartedEventAttributes?.scheduledEventId;
    if (scheduledId != null) total += protoMs(e.eventTime) - (at.get(String(scheduledId)) ?? protoMs(e.eventTime));
  }
  return total;
}

/** Workflow tasks' time from scheduled to completed (queue, the worker's activation and its local progress writes), summed over one run's history. */
function workflowTaskMs(history: History): number {
  let scheduledAt = 0;
  let total = 0;
  for (const e of history.events ?? []) {
    if (e.workflowTaskScheduledEventAttributes) scheduledAt = protoMs(e.eventTime);
    if (e.workflowTaskCompletedEventAttributes) total += protoMs(e.eventTime) - scheduledAt;
  }
  return total;
}

/** Scheduled → completed of each completed activity of one type in a run's history. */
function activityDurations(history: History, activityType: string): number[] {
  const events = history.events ?? [];
  const byId = new Map(events.map((e) => [String(e.eventId), e]));
  return events.flatMap((e) => {
    const scheduled = byId.get(String(e.activityTaskCompletedEventAttributes?.scheduledEventId));
    return scheduled?.activityTaskScheduledEventAttributes?.activityType?.name === activityType
      ? [protoMs(e.eventTime) - protoMs(scheduled.eventTime)]
      : [];
  });
}

/**
 * User A submits `total` imports as fast as the API lets them in: each of FLOOD_CLIENTS loops
 * starts one, retries after Retry-After when the plan's concurrency cap answers 429, and waits for
 * it to finish. Resolves once every import finished or `stop()` was called and the running ones finished.
 */
function flood(platform: ImportPlatform, stack: BenchStack, authorization: string, total: number) {
  let submitted = 0;
  let stopped = false;
  const counts = { accepted: 0, refused: 0, finished: 0 };
  const request = { contentTypes: CONTENT_TYPES, transcript: SAMPLE_TRANSCRIPT };
  const loop = async () => {
    while (!stopped && submitted < total) {
      submitted++;
      for (;;) {
        const started = await platform.start(authorization, request);
        if (started.runId) {
          counts.accepted++;
          await stack.client.workflow.getHandle(started.runId).result();
          counts.finished++;
          break;
        }
        if (started.status !== 429) throw new Error(`user A's import refused: ${started.status}`);
        counts.refused++;
        if (stopped) break;
        await new Promise((r) => setTimeout(r, Math.min(1000, (started.retryAfterSeconds ?? 1) * 1000)));
      }
    }
  };
  const done = Promise.all(Array.from({ length: FLOOD_CLIENTS }, loop));
  return {
    counts,
    done,
    stop() {
      stopped = true;
    },
  };
}

/**
 * B10: user B's single import (3 AI content types at 300 ms each) on an idle system, then while
 * user A floods the same API and worker with imports. The fairness measured is what the platform
 * has: the per-user running-job cap of the plan (A's surplus answered 429 until a slot frees).
 */
export function noisyNeighbourBenchmark(stack: () => Promise<BenchStack>): BenchmarkModule {
  return {
    id: 'B10',
    title: "Noisy neighbour: user B's import while user A floods imports vs B alone",
    async run(context: BenchmarkContext): Promise<BenchmarkResult> {
      const size = context.quick ? SIZES.quick : SIZES.full;
      const s = await stack();
      const sandboxes = await startImportSandboxes(AI_LATENCY_MS);
      try {
        return await withImportPlatform(s, sandboxes.urls, {}, async (platform) => {
          const [a, b] = [await platform.newCaller('enterprise'), await platform.newCaller('enterprise')];
          const request = { contentTypes: CONTENT_TYPES, transcript: SAMPLE_TRANSCRIPT };
          const waits: number[] = [];
          const workflowTasks: number[] = [];
          const generations: number[] = [];
          const importsOfB = async () => {
            const wall: number[] = [];
            for (let i = 0; i < size.n; i++) {
              const { runId, wallMs } = await platform.importVideo(b.authorization, request);
              wall.push(wallMs);
              const history = await s.client.workflow.getHandle(runId).fetchHistory();
              waits.push(queueWaitMs(history));
              workflowTasks.push(workflowTaskMs(history));
              generations.push(...activityDurations(history, 'generateVideoContent'));
            }
            return wall;
          };
          context.log(`B10 idle: ${size.warmup} warm-up + ${size.n} imports of user B`);
          for (let i = 0; i < size.warmup; i++) await platform.importVideo(b.authorization, request);
          const idle = await importsOfB();
          const idleWaits = waits.splice(0);
          const idleWorkflowTasks = workflowTasks.splice(0);
          const idleGenerations = generations.splice(0);

          context.log(`B10 loaded: user A submits ${size.flood} imports; user B imports ${size.n} meanwhile`);
          const floodBegan = performance.now();
          const noisy = flood(platform, s, a.authorization, size.flood);
          // B starts once A holds its plan's running slots.
          for (let waited = 0; noisy.counts.accepted < FLOOD_CLIENTS && noisy.counts.refused === 0 && waited < 10_000; waited += 50)
            await new Promise((r) => setTimeout(r, 50));
          const loaded = await importsOfB();
          noisy.stop();
          await noisy.done;
          const floodSeconds = (performance.now() - floodBegan) / 1000;

          const idleSummary = summarize(idle);
          const loadedSummary = summarize(loaded);
          return {
            id: 'B10',
            title: this.title,
            status: 'measured',
            n: size.n,
            warmup: size.warmup,
            concurrency: 1,
            series: [
              { label: "user B's import while user A floods (wall, POST → result)", role: 'ours', latencyMs: loadedSummary },
              { label: "user B's import on an idle system", role: 'baseline', latencyMs: idleSummary },
              {
                label: `user A's flood: ${noisy.counts.finished} imports finished (${noisy.counts.refused} starts answered 429)`,
                role: 'ours',
                throughputPerSec: noisy.counts.finished / floodSeconds,
              },
            ],
            checks: [atMostTimes("user B's import wall p50", loadedSummary.p50, idleSummary.p50, 1.5)],
            notes: [
              `Both users are on the enterprise plan (20 running jobs each); each import asks for ${CONTENT_TYPES.join(', ')}, one Anthropic call each, answered after ${AI_LATENCY_MS} ms; one API and one main worker (ANTHROPIC_MAX_CONCURRENCY default) serve both users.`,
              `Time B's imports spent in Temporal's task queues (workflow and activity tasks, scheduled → started, summed per import), p50: ${Math.round(summarize(idleWaits).p50)} ms idle, ${Math.round(summarize(waits).p50)} ms under A's flood; the rest is time in the worker. B's workflow tasks (scheduled → completed, local progress writes included), summed per import, p50: ${Math.round(summarize(idleWorkflowTasks).p50)} ms idle, ${Math.round(summarize(workflowTasks).p50)} ms under the flood. One generateVideoContent activity (scheduled → completed, the 300 ms call plus the worker's Anthropic limiter queue, served round-robin across users) took ${Math.round(summarize(idleGenerations).p50)} ms p50 idle and ${Math.round(summarize(generations).p50)} ms under the flood.`,
              `User A: ${FLOOD_CLIENTS} client loops submit up to ${size.flood} imports, retrying 429s after Retry-After (at most 1 s); A stops submitting once B's ${size.n} imports are done and its running ones finish. Fairness comes from the plan's per-user running-job cap and the provider limiter's round-robin across users; A's admitted imports share the worker's workflow-task slots, its main thread (activities, local activities; here also the API and sandboxes) and the 2 cores with B's.`,
            ],
          };
        });
      } finally {
        await sandboxes.stop();
      }
    },
  };
}
