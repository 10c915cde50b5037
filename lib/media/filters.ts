import { MediaRequestError } from './errors';

/** Output aspect ratios the toolkit renders. */
export type AspectRatio = '9:16' | '1:1' | '16:9';
export const ASPECT_RATIOS: readonly AspectRatio[] = ['9:16', '1:1', '16:9'];

/** How a source of another shape fills the frame: cut the overflow, or letterbox it. */
export type FitMode = 'crop' | 'pad';

export interface Dimensions {
  width: number;
  height: number;
}

/**
 * Frame size for an aspect ratio, given its short side: 9:16 with 1080 → 1080x1920, with 720 →
 * 720x1280. Both sides are even, as yuv420p (what players expect from H.264) requires.
 */
export function dimensionsFor(aspectRatio: AspectRatio, shortSide: number): Dimensions {
  if (!Number.isInteger(shortSide) || shortSide < 16 || shortSide % 2 !== 0) {
    throw new MediaRequestError(`short side must be an even integer ≥ 16, got ${shortSide}`);
  }
  const longSide = Math.round((shortSide * 16) / 9 / 2) * 2;
  switch (aspectRatio) {
    case '9:16':
      return { width: shortSide, height: longSide };
    case '16:9':
      return { width: longSide, height: shortSide };
    case '1:1':
      return { width: shortSide, height: shortSide };
  }
}

/**
 * One filter of a filtergraph, with each option value escaped for both parsing levels
 * (option values: `\ ' :`; the graph: `\ ' [ ] , ;`), so paths and expressions with commas
 * pass through unchanged.
 */
export function filter(name: string, options: Record<string, string | number> = {}): string {
  const args = Object.entries(options)
    .map(([key, value]) => `${key}=${String(value).replace(/[\\':]/g, '\\$&')}`)
    .join(':');
  return args === '' ? name : `${name}=${args.replace(/[\\'[\],;]/g, '\\$&')}`;
}

/** Video filters that turn any source frame into `target`: centre crop or letterbox, then scale. */
export function reframeFilters(target: Dimensions, fit: FitMode): string[] {
  const { width: w, height: h } = target;
  if (fit === 'crop') {
    return [
      filter('crop', { w: `min(iw,ih*${w}/${h})`, h: `min(ih,iw*${h}/${w})` }),
      filter('scale', { w, h }),
      filter('setsar', { sar: 1 }),
    ];
  }
  return [
    filter('scale', { w, h, force_original_aspect_ratio: 'decrease' }),
    filter('pad', { w, h, x: '(ow-iw)/2', y: '(oh-ih)/2', color: 'black' }),
    filter('setsar', { sar: 1 }),
  ];
}

/** Scale to cover `target` and cut the overflow: a full-bleed background from any frame. */
export function coverFilters(target: Dimensions): string[] {
  return [
    filter('scale', { w: target.width, h: target.height, force_original_aspect_ratio: 'increase' }),
    filter('crop', { w: target.width, h: target.height }),
    filter('setsar', { sar: 1 }),
  ];
}

export interface Rgba {
  r: number;
  g: number;
  b: number;
  /** 0 (transparent) to 1 (opaque). */
  alpha: number;
}

/** `#rgb`, `#rrggbb` or `#rrggbbaa`. */
export function parseColor(color: string): Rgba {
  const hex = /^#([0-9a-f]{3}|[0-9a-f]{6}|[0-9a-f]{8})$/i.exec(color.trim())?.[1];
  if (!hex) throw new MediaRequestError(`colour must be #rgb, #rrggbb or #rrggbbaa, got "${color}"`);
  const full = hex.length === 3 ? [...hex].map((c) => c + c).join('') : hex;
  const byte = (i: number) => parseInt(full.slice(i, i + 2), 16);
  return { r: byte(0), g: byte(2), b: byte(4), alpha: full.length === 8 ? byte(6) / 255 : 1 };
}

const hex2 = (n: number) => n.toString(16).padStart(2, '0').toUpperCase();

/** ffmpeg's colour syntax: `0xRRGGBB@alpha`. */
export function ffmpegColor(color: string, opacity = 1): string {
  const { r, g, b, alpha } = parseColor(color);
  return `0x${hex2(r)}${hex2(g)}${hex2(b)}@${Number((alpha * opacity).toFixed(3))}`;
}

/** ASS colour syntax: `&HAABBGGRR`, where AA is transparency (00 = opaque). */
export function assColor(color: string, opacity = 1): string {
  const { r, g, b, alpha } = parseColor(color);
  return `&H${hex2(Math.round(255 - alpha * opacity * 255))}${hex2(b)}${hex2(g)}${hex2(r)}`;
}
