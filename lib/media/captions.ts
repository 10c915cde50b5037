import { join } from 'node:path';
import { MediaRequestError } from './errors';
import { type Dimensions, assColor, ffmpegColor, filter } from './filters';

/** One spoken word with its timing in seconds. */
export interface CaptionWord {
  text: string;
  start: number;
  end: number;
}

/** Words shown together on screen. */
export interface CaptionCue {
  start: number;
  end: number;
  words: CaptionWord[];
}

export interface CueLimits {
  maxWords: number;
  maxChars: number;
  /** A pause longer than this starts a new cue. */
  maxGapSeconds: number;
}

export type CaptionStyleName = 'bold' | 'minimal' | 'karaoke';
export const CAPTION_STYLE_NAMES: readonly CaptionStyleName[] = ['bold', 'minimal', 'karaoke'];

interface CaptionStyle {
  bold: boolean;
  uppercase: boolean;
  /** Font size as a fraction of the frame's short side, so a style looks alike at every size. */
  fontScale: number;
  color: string;
  /** Colour of the word being spoken (karaoke-like highlight). */
  highlightColor?: string;
  outlineColor: string;
  /** Outline width as a fraction of the font size. */
  outlineScale: number;
  /** An opaque box behind the text instead of an outline. */
  box?: { color: string; opacity: number };
  /** Distance of the text from the bottom edge, as a fraction of the frame height. */
  marginScale: number;
  cues: CueLimits;
}

export const CAPTION_STYLES: Record<CaptionStyleName, CaptionStyle> = {
  bold: {
    bold: true,
    uppercase: true,
    fontScale: 0.075,
    color: '#ffffff',
    outlineColor: '#000000',
    outlineScale: 0.08,
    marginScale: 0.12,
    cues: { maxWords: 3, maxChars: 20, maxGapSeconds: 0.6 },
  },
  minimal: {
    bold: false,
    uppercase: false,
    fontScale: 0.05,
    color: '#ffffff',
    outlineColor: '#000000',
    outlineScale: 0,
    box: { color: '#000000', opacity: 0.6 },
    marginScale: 0.06,
    cues: { maxWords: 7, maxChars: 40, maxGapSeconds: 0.8 },
  },
  karaoke: {
    bold: true,
    uppercase: true,
    fontScale: 0.07,
    color: '#ffffff',
    highlightColor: '#ffd400',
    outlineColor: '#000000',
    outlineScale: 0.08,
    marginScale: 0.12,
    cues: { maxWords: 4, maxChars: 24, maxGapSeconds: 0.6 },
  },
};

/** Line lengths of conventional subtitles, used for the SRT and WebVTT exports. */
export const SUBTITLE_CUE_LIMITS: CueLimits = { maxWords: 12, maxChars: 42, maxGapSeconds: 1.0 };

function validateWords(words: readonly CaptionWord[]): void {
  words.forEach((word, i) => {
    if (word.text.trim() === '') throw new MediaRequestError(`caption word ${i} is empty`);
    if (!Number.isFinite(word.start) || !Number.isFinite(word.end) || word.start < 0 || word.end < word.start) {
      throw new MediaRequestError(`caption word ${i} ("${word.text}") has invalid timing ${word.start}–${word.end}`);
    }
    const previous = words[i - 1];
    if (previous && word.start < previous.start) {
      throw new MediaRequestError(`caption words must be in time order: word ${i} starts before word ${i - 1}`);
    }
  });
}

const cueText = (words: readonly CaptionWord[]) => words.map((w) => w.text.trim()).join(' ');

/** Groups words into cues: a cue ends at a sentence end, a long pause, or the word/character limits. */
export function groupIntoCues(words: readonly CaptionWord[], limits: CueLimits): CaptionCue[] {
  validateWords(words);
  const cues: CaptionCue[] = [];
  let current: CaptionWord[] = [];
  const flush = () => {
    const [first] = current;
    const last = current[current.length - 1];
    if (first && last) cues.push({ start: first.start, end: last.end, words: current });
    current = [];
  };
  for (const word of words) {
    const last = current[current.length - 1];
    const breaksHere =
      last !== undefined &&
      (current.length >= limits.maxWords ||
        cueText([...current, word]).length > limits.maxChars ||
        word.start - last.end > limits.maxGapSeconds ||
        /[.!?]["')\]]*$/.test(last.text.trim()));
    if (breaksHere) flush();
    current.push(word);
  }
  flush();
  return cues;
}

/** Word timings are kept to the millisecond; finer digits are float noise from the subtraction. */
const toMillis = (seconds: number) => Math.round(seconds * 1000) / 1000;

/**
 * The words of a clip [start, start + duration) of the source, re-timed to the clip and clamped
 * to it; words only partly inside are kept so a caption never vanishes mid-word.
 */
export function wordsInWindow(words: readonly CaptionWord[], start: number, duration: number): CaptionWord[] {
  const end = start + duration;
  return words
    .filter((w) => w.end > start && w.start < end)
    .map((w) => ({
      text: w.text,
      start: toMillis(Math.max(0, w.start - start)),
      end: toMillis(Math.min(duration, w.end - start)),
    }));
}

function timestamp(seconds: number, fractionSeparator: string): string {
  const ms = Math.round(seconds * 1000);
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor(ms / 60_000) % 60;
  const s = Math.floor(ms / 1000) % 60;
  return `${pad(h)}:${pad(m)}:${pad(s)}${fractionSeparator}${pad(ms % 1000, 3)}`;
}

/** SubRip text from word timings. */
export function toSrt(words: readonly CaptionWord[], limits: CueLimits = SUBTITLE_CUE_LIMITS): string {
  return groupIntoCues(words, limits)
    .map((cue, i) => `${i + 1}\n${timestamp(cue.start, ',')} --> ${timestamp(cue.end, ',')}\n${cueText(cue.words)}\n`)
    .join('\n');
}

/** WebVTT text from word timings. */
export function toWebVtt(words: readonly CaptionWord[], limits: CueLimits = SUBTITLE_CUE_LIMITS): string {
  const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const cues = groupIntoCues(words, limits).map(
    (cue) => `${timestamp(cue.start, '.')} --> ${timestamp(cue.end, '.')}\n${escape(cueText(cue.words))}\n`,
  );
  return ['WEBVTT\n', ...cues].join('\n');
}

function assTime(seconds: number): string {
  const cs = Math.round(seconds * 100);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${Math.floor(cs / 360_000)}:${pad(Math.floor(cs / 6000) % 60)}:${pad(Math.floor(cs / 100) % 60)}.${pad(cs % 100)}`;
}

/** ASS reserves braces (override tags) and backslashes (\N, \h): shown text must not contain them. */
const assText = (text: string) => text.replace(/\{/g, '(').replace(/\}/g, ')').replace(/\\/g, '/');

function displayWord(word: CaptionWord, style: CaptionStyle): string {
  const text = word.text.trim();
  return style.uppercase ? text.toUpperCase() : text;
}

export interface CaptionRenderOptions {
  style: CaptionStyleName;
  frame: Dimensions;
  /** Font family name libass matches against the files in its fonts directory. */
  fontFamily: string;
}

function fontSizeFor(style: CaptionStyle, frame: Dimensions): number {
  return Math.round(Math.min(frame.width, frame.height) * style.fontScale);
}

/**
 * An ASS subtitle script drawing the words in the given style, sized for the frame. Karaoke
 * emits one event per spoken word with that word recoloured, so the highlight follows speech.
 */
export function buildAssScript(words: readonly CaptionWord[], options: CaptionRenderOptions): string {
  const style = CAPTION_STYLES[options.style];
  const { width, height } = options.frame;
  const fontSize = fontSizeFor(style, options.frame);
  const sideMargin = Math.round(width * 0.05);
  const border = style.box
    ? { borderStyle: 3, outline: Math.round(fontSize * 0.25), outlineColor: assColor(style.box.color, style.box.opacity) }
    : { borderStyle: 1, outline: Math.max(1, Math.round(fontSize * style.outlineScale)), outlineColor: assColor(style.outlineColor) };
  const styleLine = [
    'Caption',
    options.fontFamily,
    fontSize,
    assColor(style.color),
    assColor(style.color),
    border.outlineColor,
    assColor('#000000', 0.5),
    style.bold ? -1 : 0,
    0,
    0,
    0,
    100,
    100,
    0,
    0,
    border.borderStyle,
    border.outline,
    0,
    2,
    sideMargin,
    sideMargin,
    Math.round(height * style.marginScale),
    1,
  ].join(',');

  const dialogue = (start: number, end: number, text: string) => `Dialogue: 0,${assTime(start)},${assTime(end)},Caption,,0,0,0,,${text}`;
  const events = groupIntoCues(words, style.cues).flatMap((cue) => {
    const shown = cue.words.map((w) => assText(displayWord(w, style)));
    if (!style.highlightColor) return [dialogue(cue.start, cue.end, shown.join(' '))];
    const highlight = `{\\c${assColor(style.highlightColor)}&}`;
    return cue.words.map((word, i) => {
      const until = cue.words[i + 1]?.start ?? cue.end;
      const text = shown.map((w, j) => (j === i ? `${highlight}${w}{\\r}` : w)).join(' ');
      return dialogue(i === 0 ? cue.start : word.start, until, text);
    });
  });

  return [
    '[Script Info]',
    'ScriptType: v4.00+',
    `PlayResX: ${width}`,
    `PlayResY: ${height}`,
    'WrapStyle: 0',
    'ScaledBorderAndShadow: yes',
    '',
    '[V4+ Styles]',
    'Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding',
    `Style: ${styleLine}`,
    '',
    '[Events]',
    'Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text',
    ...events,
    '',
  ].join('\n');
}

/** A text file a drawtext filter reads its text from (so the text needs no escaping). */
export interface TextFile {
  name: string;
  content: string;
}

/**
 * drawtext filters showing each cue during its time, for ffmpeg builds without libass. The
 * karaoke highlight needs per-word colour, which drawtext lacks: that style shows whole cues.
 */
export function drawtextCaptionFilters(
  words: readonly CaptionWord[],
  options: { style: CaptionStyleName; frame: Dimensions; fontFile: (bold: boolean) => string; textDir: string },
): { filters: string[]; files: TextFile[] } {
  const style = CAPTION_STYLES[options.style];
  const fontSize = fontSizeFor(style, options.frame);
  const margin = Math.round(options.frame.height * style.marginScale);
  const look: Record<string, string | number> = style.box
    ? { box: 1, boxcolor: ffmpegColor(style.box.color, style.box.opacity), boxborderw: Math.round(fontSize * 0.25) }
    : { borderw: Math.max(1, Math.round(fontSize * style.outlineScale)), bordercolor: ffmpegColor(style.outlineColor) };
  const rendered = groupIntoCues(words, style.cues).map((cue, i) => {
    const file = { name: `caption-${i}.txt`, content: cue.words.map((w) => displayWord(w, style)).join(' ') };
    const drawtext = filter('drawtext', {
      fontfile: options.fontFile(style.bold),
      textfile: join(options.textDir, file.name),
      expansion: 'none',
      fontsize: fontSize,
      fontcolor: ffmpegColor(style.color),
      ...look,
      x: '(w-text_w)/2',
      y: `h-text_h-${margin}`,
      enable: `between(t,${cue.start.toFixed(3)},${cue.end.toFixed(3)})`,
    });
    return { file, drawtext };
  });
  return { filters: rendered.map((r) => r.drawtext), files: rendered.map((r) => r.file) };
}
