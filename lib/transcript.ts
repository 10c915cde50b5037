/** A timed piece of a transcript; times in seconds from the start of the video. */
export interface TranscriptSegment {
  start: number;
  end: number;
  text: string;
}

export type TranscriptFormat = 'srt' | 'vtt' | 'text';

export interface ParsedTranscript {
  text: string;
  /** Empty for plain text: its timings are unknown and are not invented. */
  segments: TranscriptSegment[];
}

const TIMING = /^\s*((?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})\s*-->\s*((?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})/;
/** A gap this long between cues starts a new paragraph in the joined text. */
const PARAGRAPH_GAP_SECONDS = 2;

/** `HH:MM:SS,mmm`, `HH:MM:SS.mmm` or `MM:SS.mmm` → seconds. */
export function parseTimestamp(value: string): number {
  const [clock = '', fraction = '0'] = value.trim().split(/[.,]/);
  const parts = clock.split(':').map(Number);
  if (parts.some((p) => !Number.isFinite(p))) throw new Error(`malformed timestamp: ${value}`);
  const seconds = parts.reduce((total, part) => total * 60 + part, 0);
  return seconds + Number(fraction.padEnd(3, '0').slice(0, 3)) / 1000;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', '#39': "'" };

function cleanCueText(line: string): string {
  return line
    .replace(/<[^>]*>/g, '') // <i>, <c.colorE5E5E5>, <v Speaker>, inline <00:00:01.500> word timings
    .replace(/\{\\[^}]*\}/g, '') // SRT positioning like {\an8}
    .replace(/&(#?\w+);/g, (m, name: string) => ENTITIES[name] ?? m)
    .replace(/\s+/g, ' ')
    .trim();
}

function parseCues(input: string): TranscriptSegment[] {
  const segments: TranscriptSegment[] = [];
  const blocks = input
    .replace(/^\uFEFF/, '')
    .replace(/\r\n?/g, '\n')
    .split(/\n\s*\n/);
  let previousLine = '';
  for (const block of blocks) {
    const lines = block.split('\n');
    const timingIndex = lines.findIndex((l) => TIMING.test(l));
    if (timingIndex < 0) continue; // WEBVTT header, NOTE, STYLE, REGION
    const match = TIMING.exec(lines[timingIndex] ?? '');
    if (!match?.[1] || !match[2]) continue;
    const textLines: string[] = [];
    for (const raw of lines.slice(timingIndex + 1)) {
      const line = cleanCueText(raw);
      // YouTube's rolling auto-captions repeat the previous cue's line at the top of the next.
      if (line && line !== previousLine) textLines.push(line);
      if (line) previousLine = line;
    }
    if (textLines.length === 0) continue;
    segments.push({ start: parseTimestamp(match[1]), end: parseTimestamp(match[2]), text: textLines.join(' ') });
  }
  return segments;
}

export const parseSrt = parseCues;

export function parseVtt(input: string): TranscriptSegment[] {
  if (!/^\uFEFF?WEBVTT/.test(input)) throw new Error('not a WebVTT document (missing WEBVTT header)');
  return parseCues(input);
}

export function detectTranscriptFormat(input: string): TranscriptFormat {
  if (/^\uFEFF?WEBVTT/.test(input)) return 'vtt';
  return input
    .split(/\r?\n/)
    .slice(0, 6)
    .some((l) => TIMING.test(l))
    ? 'srt'
    : 'text';
}

/** Joins cues into readable text, with a paragraph break wherever the speaker paused. */
export function segmentsToText(segments: TranscriptSegment[]): string {
  let text = '';
  let previousEnd: number | undefined;
  for (const segment of segments) {
    if (previousEnd !== undefined) text += segment.start - previousEnd >= PARAGRAPH_GAP_SECONDS ? '\n\n' : ' ';
    text += segment.text;
    previousEnd = segment.end;
  }
  return text;
}

/** Parses an SRT, WebVTT or plain-text transcript (format detected when not given). */
export function parseTranscript(input: string, format: TranscriptFormat = detectTranscriptFormat(input)): ParsedTranscript {
  if (format === 'text')
    return {
      text: input
        .replace(/\r\n?/g, '\n')
        .replace(/[ \t]+/g, ' ')
        .trim(),
      segments: [],
    };
  const segments = format === 'vtt' ? parseVtt(input) : parseSrt(input);
  return { text: segmentsToText(segments), segments };
}
