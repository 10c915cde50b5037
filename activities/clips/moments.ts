import { z } from 'zod';
import type { CaptionWord } from '../../lib/media';
import type { ClipSelectionMethod } from '../../schemas/clips';

/**
 * Clip moments: word timings from a timed transcript, the prompt that asks a model for the best
 * moments, and the checks that turn its answer into clips that fit the real video. Pure code,
 * so the rules are testable without a model or ffmpeg.
 */

/** A timed transcript cue as stored in videos.transcript_segments (word timings optional). */
export interface TimedSegment {
  start: number;
  end: number;
  text: string;
  words?: Array<{ word: string; start: number; end: number }>;
}

const millis = (seconds: number) => Math.round(seconds * 1000) / 1000;

/**
 * Word timings for the whole transcript. Supplied word timings are used as they are; a cue
 * without them (SRT/VTT) has its time shared among its words by length, which puts each word
 * boundary within a fraction of a word of the spoken one.
 */
export function wordsFromSegments(segments: readonly TimedSegment[]): CaptionWord[] {
  const words: CaptionWord[] = [];
  for (const segment of segments) {
    if (segment.words?.length) {
      for (const w of segment.words) if (w.word.trim()) words.push({ text: w.word.trim(), start: millis(w.start), end: millis(w.end) });
      continue;
    }
    const tokens = segment.text.split(/\s+/).filter(Boolean);
    const span = Math.max(0, segment.end - segment.start);
    // One extra unit per word stands for the space, so one-letter words still get some time.
    const weights = tokens.map((t) => t.length + 1);
    const total = weights.reduce((a, b) => a + b, 0);
    let elapsed = 0;
    tokens.forEach((text, i) => {
      const start = segment.start + (span * elapsed) / total;
      elapsed += weights[i] ?? 0;
      words.push({ text, start: millis(start), end: millis(segment.start + (span * elapsed) / total) });
    });
  }
  return words.sort((a, b) => a.start - b.start);
}

export interface MomentRequest {
  count: number;
  minSeconds: number;
  maxSeconds: number;
  /** The probed duration of the media file: moments must end inside it. */
  durationSeconds: number;
}

/** Transcripts longer than this are cut in the prompt (about 30k tokens). */
const PROMPT_TRANSCRIPT_CHARS = 120_000;

export const MOMENT_SYSTEM_PROMPT =
  'You are a short-form video editor. From a talk transcript you pick the moments that make the strongest stand-alone clips: a clear hook in the first seconds, one complete idea, a satisfying end. You answer with JSON only.';

/**
 * The prompt for `count` moments. Moments are identified by quoting their first and last words
 * exactly: the model never has to do arithmetic on timestamps, and a quote that is not in the
 * transcript is simply rejected. The JSON example holds `count` entries, so the answer's shape
 * asks for exactly that many.
 */
export function momentPrompt(transcript: string, request: MomentRequest, title: string | null): string {
  const example = {
    moments: Array.from({ length: request.count }, () => ({
      title: 'a short catchy title',
      start_quote: 'the first words of the clip, copied exactly',
      end_quote: 'the last words of the clip, copied exactly',
      hook_score: 0,
      virality_score: 0,
      engagement_score: 0,
      topics: ['topic'],
    })),
  };
  const text = transcript.length > PROMPT_TRANSCRIPT_CHARS ? `${transcript.slice(0, PROMPT_TRANSCRIPT_CHARS)} …` : transcript;
  return [
    `Pick the ${request.count} best moments for short clips from this ${Math.round(request.durationSeconds)}-second video${title ? ` titled "${title}"` : ''}.`,
    `Each clip must last between ${request.minSeconds} and ${request.maxSeconds} seconds of speech, start at the beginning of a sentence and not overlap another clip.`,
    'Quote the first and last words of each clip exactly as they appear in the transcript. Scores are integers from 0 to 100.',
    'Answer with JSON shaped like this example:',
    '```json',
    JSON.stringify(example, null, 2),
    '```',
    `<transcript>${text}</transcript>`,
  ].join('\n');
}

const score = z.coerce.number().transform((n) => (Number.isFinite(n) ? Math.round(Math.min(100, Math.max(0, n))) : 0));
const MomentCandidateSchema = z.object({
  title: z.string().catch(''),
  start_quote: z.string(),
  end_quote: z.string().catch(''),
  hook_score: score.catch(0),
  virality_score: score.catch(0),
  engagement_score: score.catch(0),
  topics: z.array(z.unknown()).catch([]),
});
export type MomentCandidate = z.infer<typeof MomentCandidateSchema>;

/** The candidates in a model answer; unusable entries are skipped, an answer without JSON gives none. */
export function parseMomentAnswer(answer: string): MomentCandidate[] {
  const json = /```(?:json)?\s*([\s\S]*?)```/.exec(answer)?.[1] ?? answer.slice(answer.indexOf('{'), answer.lastIndexOf('}') + 1);
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return [];
  }
  const list = Array.isArray(parsed) ? parsed : (parsed as { moments?: unknown })?.moments;
  if (!Array.isArray(list)) return [];
  return list.flatMap((item) => {
    const candidate = MomentCandidateSchema.safeParse(item);
    return candidate.success ? [candidate.data] : [];
  });
}

export interface ClipMoment {
  start: number;
  end: number;
  title: string;
  /** The model's scores; null for a window cut on pauses (nobody scored it). */
  hookScore: number | null;
  viralityScore: number | null;
  engagementScore: number | null;
  topics: string[];
  /** The transcript words the clip covers. */
  text: string;
  /** Which path chose the clip: the model's quotes, or the deterministic pause windows. */
  selectionMethod: ClipSelectionMethod;
}

const normalize = (word: string) => word.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, '');
const tokens = (text: string) => text.split(/\s+/).map(normalize).filter(Boolean);

/** Index of the first word of `quote` in `words` at or after `from`, matching its first few words. */
function findQuote(keys: string[], quote: string, from: number, anchor: 'start' | 'end'): number | undefined {
  const all = tokens(quote);
  const probe = anchor === 'start' ? all.slice(0, 6) : all.slice(-6);
  if (probe.length === 0) return undefined;
  for (let i = from; i + probe.length <= keys.length; i++) {
    if (probe.every((t, k) => keys[i + k] === t)) return anchor === 'start' ? i : i + probe.length - 1;
  }
  return undefined;
}

const SENTENCE_END = /[.!?]["')\]]*$/;

/**
 * The last word of a clip starting at word `first`: the quoted end when the length fits,
 * otherwise the word ending nearest to it (or to the middle of the allowed range) inside
 * [min, max] and the video, preferring a sentence end.
 */
function chooseEnd(words: CaptionWord[], first: number, quotedEnd: number | undefined, request: MomentRequest): number | undefined {
  const start = words[first]?.start ?? 0;
  const limit = Math.min(start + request.maxSeconds, request.durationSeconds);
  const fits = (j: number) => {
    const end = words[j]?.end ?? Infinity;
    return end - start >= request.minSeconds && end <= limit;
  };
  if (quotedEnd !== undefined && quotedEnd >= first && fits(quotedEnd)) return quotedEnd;
  const candidates: number[] = [];
  for (let j = first; j < words.length && (words[j]?.end ?? Infinity) <= limit; j++) if (fits(j)) candidates.push(j);
  if (candidates.length === 0) return undefined;
  const target =
    quotedEnd !== undefined && quotedEnd >= first ? (words[quotedEnd]?.end ?? 0) : start + (request.minSeconds + request.maxSeconds) / 2;
  const sentenceEnds = candidates.filter((j) => SENTENCE_END.test(words[j]?.text ?? ''));
  const pool = sentenceEnds.length > 0 ? sentenceEnds : candidates;
  return pool.reduce((best, j) => (Math.abs((words[j]?.end ?? 0) - target) < Math.abs((words[best]?.end ?? 0) - target) ? j : best));
}

const overlapRatio = (a: ClipMoment, b: ClipMoment) =>
  Math.max(0, Math.min(a.end, b.end) - Math.max(a.start, b.start)) / Math.min(a.end - a.start, b.end - b.start);

/** Short labels only: a long string is a sentence, not a topic. */
const cleanTopics = (topics: unknown[]) =>
  [...new Set(topics.filter((t): t is string => typeof t === 'string').map((t) => t.trim().toLowerCase()))]
    .filter((t) => t.length > 0 && t.length <= 40 && t.split(/\s+/).length <= 4)
    .slice(0, 10);

/**
 * The model's candidates as clips of the real video: each starts on the first word of its quote
 * and ends on a word end inside the requested length and the video's duration. Candidates whose
 * quote is not in the transcript, that cannot fit, or that mostly overlap an earlier clip are
 * dropped; at most `count` are kept, in the model's order of preference.
 */
export function resolveMoments(
  candidates: readonly MomentCandidate[],
  words: readonly CaptionWord[],
  request: MomentRequest,
): ClipMoment[] {
  const list = [...words];
  const keys = list.map((w) => normalize(w.text));
  const chosen: ClipMoment[] = [];
  for (const candidate of candidates) {
    if (chosen.length >= request.count) break;
    const first = findQuote(keys, candidate.start_quote, 0, 'start');
    if (first === undefined) continue;
    const quotedEnd = candidate.end_quote ? findQuote(keys, candidate.end_quote, first, 'end') : undefined;
    const last = chooseEnd(list, first, quotedEnd, request);
    if (last === undefined) continue;
    const covered = list.slice(first, last + 1);
    const text = covered.map((w) => w.text).join(' ');
    const moment: ClipMoment = {
      start: list[first]?.start ?? 0,
      end: list[last]?.end ?? 0,
      title: (candidate.title.trim() || text.split(' ').slice(0, 8).join(' ')).slice(0, 500),
      hookScore: candidate.hook_score,
      viralityScore: candidate.virality_score,
      engagementScore: candidate.engagement_score,
      topics: cleanTopics(candidate.topics),
      text,
      selectionMethod: 'model',
    };
    if (chosen.some((c) => overlapRatio(c, moment) > 0.5)) continue;
    chosen.push(moment);
  }
  return chosen;
}

/** A silence at least this long (or a cue boundary) is a place where a clip may start or end. */
const PAUSE_SECONDS = 0.3;
/** How much a cue boundary and a sentence end add to a break's strength (in seconds of pause). */
const CUE_BONUS = 0.3;
const SENTENCE_BONUS = 0.5;

/**
 * How good a cut after each word is: the silence that follows it, plus a bonus at a cue boundary
 * (the captioner broke the line there) and at a sentence end. The last word ends the speech.
 */
function breakStrengths(words: readonly CaptionWord[], cueEnds: readonly number[]): number[] {
  const ends = [...cueEnds].sort((a, b) => a - b);
  let cue = 0;
  return words.map((word, j) => {
    const next = words[j + 1];
    if (!next) return Infinity;
    while (cue < ends.length && (ends[cue] ?? 0) < word.end - 0.05) cue++;
    const atCueEnd = cue < ends.length && (ends[cue] ?? 0) <= next.start + 0.05;
    return Math.max(0, next.start - word.end) + (atCueEnd ? CUE_BONUS : 0) + (SENTENCE_END.test(word.text) ? SENTENCE_BONUS : 0);
  });
}

/**
 * Deterministic clips for a transcript the model could not cut (its quotes did not match, or the
 * text has no sentence ends, as automatic captions and many speech-to-text outputs): consecutive
 * windows of the requested length, each ending at the strongest pause or cue boundary in range
 * (nearest the middle length on a tie), the next starting on the following word. Windows that
 * overlap an already chosen clip are skipped; the rest are spread evenly over the video so the
 * clips do not all come from its beginning.
 */
export function pauseWindowMoments(
  words: readonly CaptionWord[],
  cueEnds: readonly number[],
  request: MomentRequest,
  chosen: readonly ClipMoment[] = [],
): ClipMoment[] {
  const wanted = request.count - chosen.length;
  if (wanted <= 0 || words.length === 0) return [];
  const strengths = breakStrengths(words, cueEnds);
  const middle = (request.minSeconds + request.maxSeconds) / 2;
  const windows: ClipMoment[] = [];
  let first = 0;
  while (first < words.length) {
    const start = words[first]?.start ?? 0;
    const limit = Math.min(start + request.maxSeconds, request.durationSeconds);
    let best: number | undefined;
    for (let j = first; j < words.length && (words[j]?.end ?? Infinity) <= limit; j++) {
      if ((words[j]?.end ?? 0) - start < request.minSeconds) continue;
      const better =
        best === undefined ||
        (strengths[j] ?? 0) > (strengths[best] ?? 0) ||
        ((strengths[j] ?? 0) === (strengths[best] ?? 0) &&
          Math.abs((words[j]?.end ?? 0) - start - middle) < Math.abs((words[best]?.end ?? 0) - start - middle));
      if (better) best = j;
    }
    if (best === undefined) {
      // Nothing fits from here (a long silence, or the video ends): try again after the next break.
      let next = first + 1;
      while (next < words.length && (strengths[next - 1] ?? 0) < PAUSE_SECONDS) next++;
      first = next;
      continue;
    }
    const covered = words.slice(first, best + 1);
    const text = covered.map((w) => w.text).join(' ');
    const window: ClipMoment = {
      start,
      end: words[best]?.end ?? start,
      title: text.split(' ').slice(0, 8).join(' ').slice(0, 500),
      hookScore: null,
      viralityScore: null,
      engagementScore: null,
      topics: [],
      text,
      selectionMethod: 'pause_windows',
    };
    if (!chosen.some((c) => overlapRatio(c, window) > 0)) windows.push(window);
    first = best + 1;
  }
  if (windows.length <= wanted) return windows;
  return Array.from({ length: wanted }, (_, k) => windows[Math.floor(((k + 0.5) * windows.length) / wanted)]!);
}
