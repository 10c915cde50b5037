import {
  momentPrompt,
  MOMENT_SYSTEM_PROMPT,
  parseMomentAnswer,
  pauseWindowMoments,
  resolveMoments,
  wordsFromSegments,
  type MomentCandidate,
} from '../../activities/clips/moments';
import { parseTranscript } from '../../lib/transcript';
import { composeAnswer } from '../../sandbox/anthropic';
import { unpunctuatedSrt } from '../integration/clips-fixtures';

const SEGMENTS = [
  { start: 0.2, end: 2.0, text: 'Batch filming saves me nine hours every week.' },
  { start: 2.2, end: 4.2, text: 'The first step is writing down every audience question.' },
  { start: 4.4, end: 6.4, text: 'Group those questions into three clear themes today.' },
  { start: 6.6, end: 8.6, text: 'Each theme becomes a short series of videos.' },
];
const WORDS = wordsFromSegments(SEGMENTS);
const REQUEST = { count: 3, minSeconds: 1.5, maxSeconds: 3, durationSeconds: 9 };

const candidate = (start_quote: string, end_quote = '', title = 'A clip'): MomentCandidate => ({
  title,
  start_quote,
  end_quote,
  hook_score: 80,
  virality_score: 70,
  engagement_score: 60,
  topics: ['batching', 'This is a whole sentence, not a topic label at all.'],
});

describe('wordsFromSegments', () => {
  it('shares each cue among its words in order, from the cue start to the cue end', () => {
    expect(WORDS).toHaveLength(SEGMENTS.reduce((n, s) => n + s.text.split(' ').length, 0));
    const firstCue = WORDS.slice(0, 8);
    expect(firstCue[0]).toMatchObject({ text: 'Batch', start: 0.2 });
    expect(firstCue[7]).toMatchObject({ text: 'week.', end: 2.0 });
    for (let i = 1; i < firstCue.length; i++) expect(firstCue[i]!.start).toBeCloseTo(firstCue[i - 1]!.end, 3);
    // Longer words get more time.
    const duration = (w: { start: number; end: number }) => w.end - w.start;
    expect(duration(firstCue[1]!)).toBeGreaterThan(duration(firstCue[2]!)); // "filming" vs "saves"
  });

  it('uses supplied word timings as they are', () => {
    const words = wordsFromSegments([
      {
        start: 0,
        end: 2,
        text: 'hi there',
        words: [
          { word: 'hi', start: 0.1, end: 0.4 },
          { word: 'there', start: 1.2, end: 1.9 },
        ],
      },
    ]);
    expect(words).toEqual([
      { text: 'hi', start: 0.1, end: 0.4 },
      { text: 'there', start: 1.2, end: 1.9 },
    ]);
  });
});

describe('resolveMoments', () => {
  it('starts on the first quoted word and ends on the quoted last word when the length fits', () => {
    const [moment] = resolveMoments([candidate('The first step is', 'every audience question.')], WORDS, REQUEST);
    expect(moment).toMatchObject({ start: 2.2, end: 4.2, title: 'A clip', hookScore: 80, topics: ['batching'] });
    expect(moment!.text).toBe('The first step is writing down every audience question.');
  });

  it('moves an end outside the requested length to a word end inside it, preferring a sentence end', () => {
    // The quoted end lies two sentences later (over 3 s): the end snaps back to the first sentence's last word.
    const [moment] = resolveMoments([candidate('Batch filming', 'every audience question.')], WORDS, REQUEST);
    expect(moment).toMatchObject({ start: 0.2, end: 2.0 });
    const tight = resolveMoments([candidate('Batch filming')], WORDS, { ...REQUEST, minSeconds: 1, maxSeconds: 1.2 });
    const ends = WORDS.map((w) => w.end);
    expect(ends).toContain(tight[0]!.end);
    expect(tight[0]!.end - tight[0]!.start).toBeGreaterThanOrEqual(1);
    expect(tight[0]!.end - tight[0]!.start).toBeLessThanOrEqual(1.2);
  });

  it('never ends past the real duration of the video', () => {
    expect(resolveMoments([candidate('Each theme becomes')], WORDS, { ...REQUEST, durationSeconds: 7.5 })).toEqual([]);
    const [moment] = resolveMoments([candidate('Each theme becomes')], WORDS, REQUEST);
    expect(moment!.end).toBeLessThanOrEqual(9);
  });

  it('drops quotes not in the transcript, overlapping moments and moments beyond the count', () => {
    const moments = resolveMoments(
      [
        candidate('words nobody ever said'),
        candidate('Group those questions'),
        candidate('those questions into three'), // mostly the same moment
        candidate('Batch filming saves'),
        candidate('Each theme becomes'),
        candidate('The first step'),
      ],
      WORDS,
      REQUEST,
    );
    expect(moments.map((m) => m.start)).toEqual([4.4, 0.2, 6.6]);
  });
});

describe('the moment prompt', () => {
  it('gets `count` usable candidates from the Anthropic sandbox, which quotes the transcript', () => {
    const transcript = SEGMENTS.map((s) => s.text).join(' ');
    const answer = composeAnswer(MOMENT_SYSTEM_PROMPT, momentPrompt(transcript, { ...REQUEST, count: 2 }, 'Batching'), 1000);
    const candidates = parseMomentAnswer(answer);
    expect(candidates).toHaveLength(2);
    expect(resolveMoments(candidates, WORDS, { ...REQUEST, count: 2 })).toHaveLength(2);
  });

  it('reads fenced or bare JSON and ignores answers without it', () => {
    const moment = { start_quote: 'Batch filming', end_quote: 'week.', title: 't', hook_score: '140', topics: [] };
    expect(parseMomentAnswer('```json\n{"moments":[' + JSON.stringify(moment) + ']}\n```')[0]).toMatchObject({
      start_quote: 'Batch filming',
      hook_score: 100,
    });
    expect(parseMomentAnswer(`Here you go: ${JSON.stringify({ moments: [moment] })}`)).toHaveLength(1);
    expect(parseMomentAnswer('I cannot help with that.')).toEqual([]);
    expect(parseMomentAnswer('{"moments": [{"title": "no quote"}]}')).toEqual([]);
  });
});

describe('pauseWindowMoments (clips from a transcript without sentences)', () => {
  const captions = parseTranscript(unpunctuatedSrt(120));
  const words = wordsFromSegments(captions.segments);
  const cueEnds = captions.segments.map((s) => s.end);
  const request = { count: 3, minSeconds: 10, maxSeconds: 30, durationSeconds: 120 };

  it('gets no usable moment from the model on unpunctuated captions, which is why the fallback exists', () => {
    const answer = composeAnswer(MOMENT_SYSTEM_PROMPT, momentPrompt(captions.text, request, 'Batching'), 1100);
    expect(resolveMoments(parseMomentAnswer(answer), words, request)).toEqual([]);
  });

  it('cuts the requested count of windows within the lengths, ending at pauses, spread over the video', () => {
    const moments = pauseWindowMoments(words, cueEnds, request);
    expect(moments).toHaveLength(3);
    for (const m of moments) {
      expect(m.selectionMethod).toBe('pause_windows');
      expect(m.end - m.start).toBeGreaterThanOrEqual(10);
      expect(m.end - m.start).toBeLessThanOrEqual(30);
      expect(m.end).toBeLessThanOrEqual(120);
      // Each ends on the last word before a breath (a 0.8 s pause after every fourth cue).
      const last = words.findIndex((w) => w.end === m.end);
      expect(words[last + 1] ? words[last + 1]!.start - m.end : 1).toBeGreaterThan(0.5);
    }
    expect(moments[2]!.start).toBeGreaterThan(60);
    for (let i = 1; i < moments.length; i++) expect(moments[i]!.start).toBeGreaterThanOrEqual(moments[i - 1]!.end);
  });

  it('ends on cue boundaries when the captions have no pauses, and is deterministic', () => {
    const contiguous = [0, 1, 2, 3, 4, 5].map((i) => ({ start: i * 4, end: (i + 1) * 4, text: 'one two three four five six seven' }));
    const timed = wordsFromSegments(contiguous);
    const once = pauseWindowMoments(
      timed,
      contiguous.map((s) => s.end),
      { count: 2, minSeconds: 6, maxSeconds: 10, durationSeconds: 24 },
    );
    expect(once.map((m) => [m.start, m.end])).toEqual([
      [0, 8],
      [16, 24],
    ]);
    expect(
      pauseWindowMoments(
        timed,
        contiguous.map((s) => s.end),
        { count: 2, minSeconds: 6, maxSeconds: 10, durationSeconds: 24 },
      ),
    ).toEqual(once);
  });

  it('only fills what the model left, never overlapping its clips', () => {
    const [modelMoment] = resolveMoments([candidate('Group those questions')], WORDS, REQUEST);
    const filled = pauseWindowMoments(
      WORDS,
      SEGMENTS.map((s) => s.end),
      REQUEST,
      [modelMoment!],
    );
    expect(filled).toHaveLength(2);
    for (const m of filled) expect(m.end <= modelMoment!.start || m.start >= modelMoment!.end).toBe(true);
    expect(pauseWindowMoments(WORDS, [], { ...REQUEST, count: 1 }, [modelMoment!])).toEqual([]);
  });
});
