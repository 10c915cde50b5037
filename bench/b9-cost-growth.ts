import { MAX_SUPPLIED_TRANSCRIPT_CHARS } from '../schemas/video-import';
import { startImportSandboxes, transcriptOfWords, withImportPlatform } from './lib/import-platform';
import { absolute, type BenchmarkContext, type BenchmarkModule, type BenchmarkResult } from './lib/result';
import type { BenchStack } from './lib/stack';
import { summarize } from './lib/stats';

const SIZES = { quick: { n: 1, warmup: 1 }, full: { n: 3, warmup: 1 } };
/** The sizes, and the largest one the API accepts in a JSON body (MAX_SUPPLIED_TRANSCRIPT_CHARS). */
const ASKED_WORDS = [1_000, 10_000, 100_000];
const CONTENT_TYPES = ['summary', 'chapters', 'blog_post'];

interface SizeResult {
  words: number;
  wallMs: number[];
  historyBytes: number[];
  historyEvents: number[];
}

/**
 * B9: the same import (3 AI content types, zero-latency sandboxes) with ever longer transcripts.
 * Transcripts live in PostgreSQL and the media store, never in workflow payloads, so the
 * Temporal history should not grow with them, and wall time at most linearly.
 */
export function costGrowthBenchmark(stack: () => Promise<BenchStack>): BenchmarkModule {
  return {
    id: 'B9',
    title: 'Cost growth: import wall time and Temporal history bytes vs transcript length',
    async run(context: BenchmarkContext): Promise<BenchmarkResult> {
      const size = context.quick ? SIZES.quick : SIZES.full;
      const s = await stack();
      // The longest transcript the API takes: the sample's average word is ~6.2 characters with its space.
      const wordsThatFit = (words: number) => transcriptOfWords(words).length <= MAX_SUPPLIED_TRANSCRIPT_CHARS;
      const largestAccepted = Math.floor(MAX_SUPPLIED_TRANSCRIPT_CHARS / 6.5 / 1000) * 1000;
      const wordCounts = ASKED_WORDS.map((w) => (wordsThatFit(w) ? w : largestAccepted));
      const sandboxes = await startImportSandboxes(0);
      try {
        const results = await withImportPlatform(s, sandboxes.urls, {}, async (platform) => {
          const { authorization } = await platform.newCaller('enterprise');
          const out: SizeResult[] = [];
          for (const words of wordCounts) {
            const request = { contentTypes: CONTENT_TYPES, transcript: transcriptOfWords(words) };
            context.log(`B9 ${words} words: ${size.warmup} warm-up + ${size.n} imports`);
            for (let i = 0; i < size.warmup; i++) await platform.importVideo(authorization, request);
            const result: SizeResult = { words, wallMs: [], historyBytes: [], historyEvents: [] };
            for (let i = 0; i < size.n; i++) {
              const { runId, wallMs } = await platform.importVideo(authorization, request);
              const description = await s.client.workflow.getHandle(runId).describe();
              result.wallMs.push(wallMs);
              result.historyBytes.push(description.historySize ?? Number.NaN);
              result.historyEvents.push(description.historyLength);
            }
            out.push(result);
          }
          return out;
        });
        const median = (values: number[]) => summarize(values).p50;
        const first = results[0] as SizeResult;
        const last = results[results.length - 1] as SizeResult;
        const growth = last.words / first.words;
        const wallRatio = median(last.wallMs) / median(first.wallMs);
        return {
          id: 'B9',
          title: this.title,
          status: 'measured',
          n: size.n,
          warmup: size.warmup,
          concurrency: 1,
          series: results.map((r) => ({
            label: `import, ${r.words.toLocaleString('en')}-word transcript: wall (POST → result); history ${Math.round(median(r.historyBytes)).toLocaleString('en')} bytes, ${median(r.historyEvents)} events`,
            role: 'ours' as const,
            latencyMs: summarize(r.wallMs),
          })),
          checks: [
            absolute(
              `history bytes, ${last.words.toLocaleString('en')} vs ${first.words.toLocaleString('en')} words (baseline column)`,
              median(last.historyBytes),
              median(first.historyBytes),
              '≤ 1.2× baseline',
              median(last.historyBytes) <= 1.2 * median(first.historyBytes),
              'count',
            ),
            absolute(
              `wall p50, ${last.words.toLocaleString('en')} vs ${first.words.toLocaleString('en')} words (baseline column)`,
              median(last.wallMs),
              median(first.wallMs),
              `≤ ${growth}× baseline (linear in words)`,
              wallRatio <= growth,
            ),
          ],
          notes: [
            `Each import asks for ${CONTENT_TYPES.join(', ')} (one Anthropic call each) with the user's transcript; the sandboxes answer at once. History size is the server's count (describe → historySizeBytes) of the import run.`,
            ...(wordCounts.includes(largestAccepted)
              ? [
                  `The issue asks for 100,000 words; the API takes at most ${MAX_SUPPLIED_TRANSCRIPT_CHARS.toLocaleString('en')} characters of transcript in a JSON body (256 kB limit), so the largest size measured is ${largestAccepted.toLocaleString('en')} words (${transcriptOfWords(largestAccepted).length.toLocaleString('en')} characters). Longer transcripts need an upload flow that does not exist yet.`,
                ]
              : []),
          ],
        };
      } finally {
        await sandboxes.stop();
      }
    },
  };
}
