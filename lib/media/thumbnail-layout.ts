import { MediaRequestError } from './errors';
import { type Dimensions, ffmpegColor, filter, parseColor } from './filters';

export type ThumbnailAspectRatio = '16:9' | '9:16' | '1:1';

export const THUMBNAIL_SIZES: Record<ThumbnailAspectRatio, Dimensions> = {
  '16:9': { width: 1280, height: 720 },
  '9:16': { width: 720, height: 1280 },
  '1:1': { width: 1080, height: 1080 },
};

export type ThumbnailBackground =
  /** A frame of a video, scaled to cover the image; `dim` (0–1) darkens it so text stands out. */
  | { kind: 'frame'; video: string; atSeconds: number; dim?: number }
  | { kind: 'color'; color: string }
  | { kind: 'gradient'; from: string; to: string; direction?: 'vertical' | 'horizontal' | 'diagonal' };

/** The text overlay's look and place, as written by the layout step (e.g. the AI's layout spec). */
export interface ThumbnailText {
  text: string;
  /** Pixels; shrunk when the text would need more than `maxLines` lines. Default: 12% of the short side. */
  fontSize?: number;
  weight?: 'bold' | 'regular';
  color?: string;
  stroke?: { color: string; width: number };
  box?: { color: string; opacity?: number; padding?: number };
  position?: 'top' | 'center' | 'bottom';
  align?: 'left' | 'center' | 'right';
  /** Widest a line may be, as a fraction of the image width. */
  maxWidth?: number;
  maxLines?: number;
  uppercase?: boolean;
}

export interface TextLayout {
  fontSize: number;
  lineHeight: number;
  lines: string[];
  /** Top of the first line's em box, in pixels. */
  top: number;
  /** Left/right inset used by left/right alignment, in pixels. */
  inset: number;
  /** Padding of the box behind each line (0 without a box); lines are spaced so boxes do not overlap. */
  boxPadding: number;
}

const MIN_FONT_SIZE = 14;

/**
 * Approximate advance of DejaVu Sans glyphs in ems (drawtext cannot measure before drawing);
 * errs wide so a line estimated to fit does fit.
 */
export function estimateTextWidth(text: string, fontSize: number, bold: boolean): number {
  let ems = 0;
  for (const char of text) {
    if (char === ' ') ems += 0.35;
    else if (/[A-Z0-9]/.test(char)) ems += 0.74;
    else if (/[a-z]/.test(char)) ems += 0.62;
    else ems += 0.7;
  }
  return ems * fontSize * (bold ? 1 : 0.92);
}

/** Greedy word wrap; a single word wider than the line stays on its own line. */
export function wrapWords(text: string, fits: (line: string) => boolean): string[] {
  const lines: string[] = [];
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const last = lines[lines.length - 1];
    if (last !== undefined && fits(`${last} ${word}`)) lines[lines.length - 1] = `${last} ${word}`;
    else lines.push(word);
  }
  return lines;
}

/** Font size, line breaks and vertical position of the overlay text within the image. */
export function layoutThumbnailText(spec: ThumbnailText, image: Dimensions): TextLayout {
  const text = spec.uppercase ? spec.text.toUpperCase() : spec.text;
  if (text.trim() === '') throw new MediaRequestError('thumbnail text is empty');
  const bold = (spec.weight ?? 'bold') === 'bold';
  const maxWidth = Math.min(1, Math.max(0.2, spec.maxWidth ?? 0.9)) * image.width;
  const maxLines = Math.max(1, spec.maxLines ?? 3);
  let fontSize = Math.round(spec.fontSize ?? Math.min(image.width, image.height) * 0.12);
  let lines = wrapWords(text, (line) => estimateTextWidth(line, fontSize, bold) <= maxWidth);
  const overflows = () => lines.length > maxLines || lines.some((line) => estimateTextWidth(line, fontSize, bold) > maxWidth);
  while (overflows() && fontSize > MIN_FONT_SIZE) {
    fontSize = Math.max(MIN_FONT_SIZE, Math.floor(fontSize * 0.9));
    lines = wrapWords(text, (line) => estimateTextWidth(line, fontSize, bold) <= maxWidth);
  }
  const boxPadding = spec.box ? Math.round(spec.box.padding ?? fontSize * 0.2) : 0;
  const lineHeight = Math.round(fontSize * 1.25) + boxPadding;
  const blockHeight = lineHeight * (lines.length - 1) + fontSize;
  const margin = Math.round(image.height * 0.08);
  const top = {
    top: margin,
    center: Math.round((image.height - blockHeight) / 2),
    bottom: image.height - margin - blockHeight,
  }[spec.position ?? 'center'];
  return { fontSize, lineHeight, lines, top, inset: Math.round((image.width - maxWidth) / 2), boxPadding };
}

/** drawtext filters (one per line, each reading its text from a file) drawing the overlay. */
export function thumbnailTextFilters(
  spec: ThumbnailText,
  layout: TextLayout,
  textFile: (lineIndex: number) => string,
  fontFile: string,
): string[] {
  const x = { left: `${layout.inset}`, center: '(w-text_w)/2', right: `w-text_w-${layout.inset}` }[spec.align ?? 'center'];
  const stroke: Record<string, string | number> = spec.stroke
    ? { borderw: Math.max(0, Math.round(spec.stroke.width)), bordercolor: ffmpegColor(spec.stroke.color) }
    : {};
  const box: Record<string, string | number> = spec.box
    ? {
        box: 1,
        boxcolor: ffmpegColor(spec.box.color, spec.box.opacity ?? 1),
        boxborderw: layout.boxPadding,
      }
    : {};
  return layout.lines.map((_, i) =>
    filter('drawtext', {
      fontfile: fontFile,
      textfile: textFile(i),
      expansion: 'none',
      fontsize: layout.fontSize,
      fontcolor: ffmpegColor(spec.color ?? '#ffffff'),
      ...stroke,
      ...box,
      x,
      // Aligns every line on the same baseline grid whatever its glyphs' heights.
      y: `${layout.top + i * layout.lineHeight}+ascent-max_glyph_a`,
    }),
  );
}

/** lavfi source + filters painting a gradient: geq interpolates each RGB channel across the image. */
export function gradientSource(from: string, to: string, direction: 'vertical' | 'horizontal' | 'diagonal', size: Dimensions) {
  const [start, end] = [parseColor(from), parseColor(to)];
  const position = { vertical: 'Y/H', horizontal: 'X/W', diagonal: '(X/W+Y/H)/2' }[direction];
  const channel = (c: 'r' | 'g' | 'b') => `${start[c]}+(${end[c] - start[c]})*${position}`;
  return {
    source: filter('color', { c: 'black', s: `${size.width}x${size.height}`, d: 1 }),
    filters: [filter('format', { pix_fmts: 'rgb24' }), filter('geq', { r: channel('r'), g: channel('g'), b: channel('b') })],
  };
}
