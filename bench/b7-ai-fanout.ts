import { loadConfig } from '../lib/config';
import { protoMs } from './lib/history';
import { SAMPLE_TRANSCRIPT, startImportSandboxes, withImportPlatform } from './lib/import-platform';
import { atMostTimesPlus, type BenchmarkContext, type BenchmarkModule, type BenchmarkResult, type Check } from './lib/result';
import type { BenchStack } from './lib/stack';
import { summarize } from './lib/stats';
import { startTimingProxy, type TimingProxy } from './lib/timing-proxy';

const SIZES = { quick: { n: 1, warmup: 1 }, full: { n: 5, warmup: 1 } };
const AI_LATENCY_MS = 2000;
/** Ten content types that each need one Anthropic call (the transcript type is stored, not generated). */
const CONTENT_TYPES = [
  'summary',
  'chapters',
  'blog_post',
  'social_posts',
  'quotes',
  'newsletter',
  'linkedin_article',
  'podcast_script',
  'quiz',
  'study_guide',
];
/** A conservative cap (low Anthropic rate-limit tiers), measured beside the default to show what it costs. */
const LOW_CAP = 4;

interface ImportTiming {
  wallMs: number;
  generationMs: number;
  slowestCallMs: number;
  calls: number;
  failed: number;
}

type History = Awaited<ReturnType<ReturnType<BenchStack['client']['workflow']['getHandle']>['fetchHistory']>>;

/** First generateVideoContent scheduled → last one completed, from the run's history. */
function generationStageMs(history: History): number {
  const events = history.events ?? [];
  const scheduled = new Map<string, number>();
  for (const e of events) {
    if (e.activityTaskScheduledEventAttributes?.activityType?.name === 'generateVideoContent')
      scheduled.set(String(e.eventId), protoMs(e.eventTime));
  }
  const completed = events
    .filter((e) => e.activityTaskCompletedEventAttributes && scheduled.has(String(e.activityTaskCompletedEventAttributes.scheduledEventId)))
    .map((e) => protoMs(e.eventTime));
  return Math.max(...completed) - Math.min(...scheduled.values());
}

async function measureImports(
  stack: BenchStack,
  proxy: TimingProxy,
  sandboxUrls: Record<string, string>,
  anthropicCap: number | undefined,
  size: { n: number; warmup: number },
): Promise<ImportTiming[]> {
  return withImportPlatform(stack, sandboxUrls, { anthropicCap }, async (platform) => {
    // The creator plan allows every content type above and enough videos per period for a full run.
    const { authorization } = await platform.newCaller('creator');
    const request = { contentTypes: CONTENT_TYPES, transcript: SAMPLE_TRANSCRIPT };
    for (let i = 0; i < size.warmup; i++) await platform.importVideo(authorization, request);
    const timings: ImportTiming[] = [];
    for (let i = 0; i < size.n; i++) {
      proxy.clear();
      const { runId, wallMs, result } = await platform.importVideo(authorization, request);
      const aiCalls = proxy.calls.filter((c) => c.path.startsWith('/v1/messages'));
      timings.push({
        wallMs,
        generationMs: generationStageMs(await stack.client.workflow.getHandle(runId).fetchHistory()),
        slowestCallMs: Math.max(...aiCalls.map((c) => c.endMs - c.startMs)),
        calls: aiCalls.length,
        failed: result.failedContentTypes.length,
      });
    }
    return timings;
  });
}

const median = (values: number[]) => summarize(values).p50;

/**
 * B7: one import of ten AI content types against the Anthropic sandbox answering each call after
 * 2 s, through the API and the real worker. Wall time (POST → workflow result) and the generation
 * stage are compared with the slowest single call of the same import, timed on the wire by a proxy
 * in front of the sandbox (so time queued in our per-provider limiter is not counted as the call's).
 */
export function aiFanOutBenchmark(stack: () => Promise<BenchStack>): BenchmarkModule {
  return {
    id: 'B7',
    title: 'Import with 10 AI content types at 2 s sandbox latency each vs the slowest single call',
    async run(context: BenchmarkContext): Promise<BenchmarkResult> {
      const size = context.quick ? SIZES.quick : SIZES.full;
      const s = await stack();
      const sandboxes = await startImportSandboxes(AI_LATENCY_MS);
      const proxy = await startTimingProxy(sandboxes.urls.anthropic as string);
      try {
        const sandboxUrls = { google: sandboxes.urls.google as string, anthropic: proxy.url };
        const defaultCap = loadConfig({}).ANTHROPIC_MAX_CONCURRENCY;
        context.log(`B7 default ANTHROPIC_MAX_CONCURRENCY=${defaultCap}: ${size.warmup} warm-up + ${size.n} imports`);
        const fanOut = await measureImports(s, proxy, sandboxUrls, undefined, size);
        context.log(`B7 ANTHROPIC_MAX_CONCURRENCY=${LOW_CAP}: ${size.warmup} warm-up + ${size.n} imports`);
        const lowCap = await measureImports(s, proxy, sandboxUrls, LOW_CAP, size);

        const slowest = fanOut.map((t) => t.slowestCallMs);
        const failed = [...fanOut, ...lowCap].reduce((n, t) => n + t.failed, 0);
        const calls = [...new Set([...fanOut, ...lowCap].map((t) => t.calls))].join('/');
        const goal = (metric: string, values: number[]) => atMostTimesPlus(metric, median(values), median(slowest), 1.2, 1000);
        const checks: Check[] = [
          goal(
            `import wall p50 (POST → result), default cap ${defaultCap}`,
            fanOut.map((t) => t.wallMs),
          ),
          goal(
            `generation stage p50, default cap ${defaultCap}`,
            fanOut.map((t) => t.generationMs),
          ),
        ];
        return {
          id: 'B7',
          title: this.title,
          status: 'measured',
          n: size.n,
          warmup: size.warmup,
          concurrency: 1,
          series: [
            {
              label: `import wall (POST → result), default ANTHROPIC_MAX_CONCURRENCY=${defaultCap}`,
              role: 'ours',
              latencyMs: summarize(fanOut.map((t) => t.wallMs)),
              errors: fanOut.reduce((n, t) => n + t.failed, 0),
            },
            {
              label: `import wall (POST → result), ANTHROPIC_MAX_CONCURRENCY=${LOW_CAP} (information only)`,
              role: 'ours',
              latencyMs: summarize(lowCap.map((t) => t.wallMs)),
              errors: lowCap.reduce((n, t) => n + t.failed, 0),
            },
            {
              label: 'slowest single Anthropic call of each import (on the wire), default cap',
              role: 'baseline',
              latencyMs: summarize(slowest),
            },
          ],
          checks,
          notes: [
            `Each import asks for ${CONTENT_TYPES.length} content types that each need one Anthropic call (${calls} calls seen per import; ${failed} generations failed); the sandbox answers every call after ${AI_LATENCY_MS} ms. Imports run one at a time; the user supplies the transcript, so YouTube is called for metadata only.`,
            `The worker's per-process Anthropic limiter (ANTHROPIC_MAX_CONCURRENCY, default ${defaultCap}) bounds the fan-out; the workflow itself starts up to 20 generations at once. With a cap of ${LOW_CAP} the ${CONTENT_TYPES.length} calls run in ${Math.ceil(CONTENT_TYPES.length / LOW_CAP)} waves: the second series shows that cost.`,
            'Generation stage: first generateVideoContent scheduled → last one completed, from the run history. The slowest call is timed by a pass-through proxy in front of the sandbox.',
          ],
        };
      } finally {
        await proxy.stop();
        await sandboxes.stop();
      }
    },
  };
}
