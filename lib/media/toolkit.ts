import { constants } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, extname, join } from 'node:path';
import ffmpeg, { type FfmpegCommand } from 'fluent-ffmpeg';
import { type Logger } from '../logger';
import { type MediaMetrics } from '../metrics';
import { type MediaBinaries, type MediaFonts, resolveMediaBinaries, resolveMediaFonts } from './binaries';
import { type CaptionStyleName, type CaptionWord, buildAssScript, drawtextCaptionFilters, wordsInWindow } from './captions';
import { FfmpegFailedError, InvalidMediaError, MediaAbortError, MediaRequestError } from './errors';
import {
  type AspectRatio,
  type Dimensions,
  type FitMode,
  coverFilters,
  dimensionsFor,
  ffmpegColor,
  filter,
  reframeFilters,
} from './filters';
import { type Keyframe, type MediaInfo, keyframesBetween, probeImageSize, probeMedia } from './probe';
import { type OperationOptions, runFfmpeg } from './run-ffmpeg';
import {
  THUMBNAIL_SIZES,
  type ThumbnailAspectRatio,
  type ThumbnailBackground,
  type ThumbnailText,
  gradientSource,
  layoutThumbnailText,
  thumbnailTextFilters,
} from './thumbnail-layout';

export type CaptionRenderer = 'ass' | 'drawtext';

export interface MediaToolkitOptions {
  /** Default: resolveMediaBinaries(). fluent-ffmpeg keeps binary paths per process, so they apply process-wide. */
  binaries?: MediaBinaries;
  /** Default: resolveMediaFonts(). */
  fonts?: MediaFonts;
  /** Where each operation makes (and always removes) its own temporary directory. Default: os.tmpdir(). */
  tempRoot?: string;
  /** Time ffmpeg gets to stop after SIGTERM before SIGKILL. Default 2000 ms. */
  killGraceMs?: number;
  /** 'auto' (default) burns captions with libass when the ffmpeg build has it, else with drawtext. */
  captionRenderer?: CaptionRenderer | 'auto';
  logger?: Logger;
  /** ffmpeg CPU seconds per operation (the worker's metrics). */
  metrics?: MediaMetrics;
}

/**
 * One pass over a source video: cut [start, start + duration), optionally reframe and burn
 * captions. A plain cut starting on a keyframe is a stream copy; anything else re-encodes
 * (H.264 veryfast + AAC), which is frame-accurate.
 */
export interface RenderClipRequest {
  input: string;
  output: string;
  startSeconds?: number;
  /** Default: to the end of the source. */
  durationSeconds?: number;
  aspectRatio?: AspectRatio;
  /** Default 'crop' (centre crop); 'pad' letterboxes. */
  fit?: FitMode;
  /** Short side of the reframed output, even: 1080 → 1080x1920 for 9:16, 720 → 720x1280. Default 1080. */
  shortSide?: number;
  /** Word timings on the source's timeline; the toolkit re-times them to the clip. */
  captions?: { words: readonly CaptionWord[]; style: CaptionStyleName };
}

export interface RenderClipResult {
  mode: 'copy' | 'reencode';
  /** Probe of the written output. */
  media: MediaInfo;
  captionRenderer?: CaptionRenderer;
}

export type ImageFormat = 'png' | 'jpeg';

export interface ExtractFrameRequest {
  input: string;
  output: string;
  /** Clamped to the last frame. */
  atSeconds: number;
  /** Scale to this width, keeping the aspect ratio. Default: the source size. */
  width?: number;
  /** Default: from the output's extension. */
  format?: ImageFormat;
}

export interface ThumbnailRequest {
  output: string;
  aspectRatio: ThumbnailAspectRatio;
  background: ThumbnailBackground;
  text?: ThumbnailText;
  format?: ImageFormat;
}

/** Cuts an image into a grid of equal tiles (a 3×3 contact sheet into 9 frames), row-major. */
export interface SplitGridRequest {
  input: string;
  columns: number;
  rows: number;
  /** The tile files, row-major (columns × rows of them); the format comes from each extension. */
  outputs: string[];
}

export interface ImageResult {
  path: string;
  format: ImageFormat;
  width: number;
  height: number;
  sizeBytes: number;
}

export interface MediaToolkit {
  readonly binaries: MediaBinaries;
  readonly fonts: MediaFonts;
  probe(path: string): Promise<MediaInfo>;
  renderClip(request: RenderClipRequest, options?: OperationOptions): Promise<RenderClipResult>;
  extractFrame(request: ExtractFrameRequest, options?: Pick<OperationOptions, 'signal'>): Promise<ImageResult>;
  composeThumbnail(request: ThumbnailRequest, options?: Pick<OperationOptions, 'signal'>): Promise<ImageResult>;
  splitGrid(request: SplitGridRequest, options?: Pick<OperationOptions, 'signal'>): Promise<ImageResult[]>;
  /** Which caption renderer 'auto' picks with this ffmpeg build. */
  captionRenderer(): Promise<CaptionRenderer>;
}

const COPYABLE_VIDEO = new Set(['h264', 'hevc', 'mpeg4']);
const COPYABLE_AUDIO = new Set(['aac', 'mp3']);
const REENCODE_OPTIONS = ['-c:v', 'libx264', '-preset', 'veryfast', '-crf', '21', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '128k'];

const seconds = (value: number) => value.toFixed(3);
const even = (value: number) => Math.max(2, Math.round(value / 2) * 2);

function imageFormatOf(output: string, format: ImageFormat | undefined): ImageFormat {
  if (format) return format;
  const extension = extname(output).toLowerCase();
  if (extension === '.png') return 'png';
  if (extension === '.jpg' || extension === '.jpeg') return 'jpeg';
  throw new MediaRequestError(`cannot tell the image format of ${output}: use .png, .jpg or pass format`);
}

function requireVideo(info: MediaInfo): void {
  if (!info.hasVideo || info.width === 0 || info.height === 0) throw new InvalidMediaError('the file has no video stream');
}

function clipWindow(request: RenderClipRequest, source: MediaInfo): { start: number; duration: number } {
  const start = request.startSeconds ?? 0;
  if (!Number.isFinite(start) || start < 0 || start >= source.durationSeconds) {
    throw new MediaRequestError(`clip start ${start}s is outside the video (0–${source.durationSeconds.toFixed(2)}s)`);
  }
  const duration = request.durationSeconds ?? source.durationSeconds - start;
  // Word-boundary snapping can overshoot the source's end by a frame or two; tolerate that.
  if (!Number.isFinite(duration) || duration <= 0 || start + duration > source.durationSeconds + 0.1) {
    throw new MediaRequestError(`clip ${start}s + ${duration}s does not fit the ${source.durationSeconds.toFixed(2)}s video`);
  }
  return { start, duration: Math.min(duration, source.durationSeconds - start) };
}

interface SeekOptions {
  input: string[];
  output: string[];
}

/** Re-encoding decodes from the keyframe before the input seek and drops frames up to it: exact. */
const reencodeSeek = (start: number): SeekOptions => ({ input: start > 0 ? ['-ss', seconds(start)] : [], output: [] });

/**
 * A stream copy must start on the keyframe itself. ffmpeg's input seek alone lands up to 0.13 s
 * early on streams with B-frames (and so on the previous keyframe), and copied packets are
 * selected by decoding time; so a coarse input seek well before the keyframe is followed by an
 * output seek to the keyframe's decoding time (floored to the millisecond so it is kept).
 */
function copySeek(keyframe: Keyframe, source: MediaInfo, start: number): SeekOptions {
  if (start === 0) return { input: [], output: [] };
  const dts = keyframe.dts - source.startTimeSeconds;
  const coarse = Math.max(0, Math.floor(dts - 1));
  const fine = Math.floor((dts - coarse) * 1000) / 1000;
  return { input: coarse > 0 ? ['-ss', seconds(coarse)] : [], output: ['-ss', seconds(fine)] };
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new MediaAbortError(signal.reason);
}

/** Moves a finished file from the operation's temp dir into place; callers never see partial files. */
async function moveIntoPlace(from: string, to: string): Promise<void> {
  await mkdir(dirname(to), { recursive: true });
  try {
    await rename(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    await copyFile(from, to, constants.COPYFILE_FICLONE);
  }
}

export function createMediaToolkit(options: MediaToolkitOptions = {}): MediaToolkit {
  const binaries = options.binaries ?? resolveMediaBinaries();
  const fonts = options.fonts ?? resolveMediaFonts();
  const tempRoot = options.tempRoot ?? tmpdir();
  const killGraceMs = options.killGraceMs ?? 2000;
  const logger = options.logger;
  const cpuOf = (operation: string) =>
    options.metrics ? { onCpuSeconds: (s: number) => options.metrics?.ffmpegCpuSeconds(operation, s) } : {};
  ffmpeg.setFfmpegPath(binaries.ffmpeg.path);
  ffmpeg.setFfprobePath(binaries.ffprobe.path);

  let detectedRenderer: Promise<CaptionRenderer> | undefined;
  const captionRenderer = (): Promise<CaptionRenderer> => {
    if (options.captionRenderer && options.captionRenderer !== 'auto') return Promise.resolve(options.captionRenderer);
    detectedRenderer ??= new Promise((resolve, reject) => {
      ffmpeg.getAvailableFilters((err, filters) => (err ? reject(err) : resolve('ass' in filters ? 'ass' : 'drawtext')));
    });
    return detectedRenderer;
  };

  async function inTempDir<T>(work: (dir: string) => Promise<T>): Promise<T> {
    const dir = await mkdtemp(join(tempRoot, 'media-'));
    try {
      return await work(dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  function newCommand(): FfmpegCommand {
    const command = ffmpeg();
    command.on('start', (commandLine: string) => logger?.debug({ commandLine }, 'ffmpeg started'));
    return command;
  }

  /** The keyframe the clip starts on, when its start is keyframe-aligned (then it can be a stream copy). */
  async function keyframeAt(input: string, source: MediaInfo, start: number, signal?: AbortSignal): Promise<Keyframe | undefined> {
    const target = source.startTimeSeconds + start;
    const tolerance = source.fps > 0 ? 0.5 / source.fps : 0.02;
    const keyframes = await keyframesBetween(binaries.ffprobe.path, input, target - 0.5, target + 0.5, signal).catch((err: unknown) => {
      throw signal?.aborted ? new MediaAbortError(signal.reason) : err;
    });
    return keyframes.find((keyframe) => Math.abs(keyframe.pts - target) <= tolerance);
  }

  async function captionFilters(
    request: NonNullable<RenderClipRequest['captions']>,
    window: { start: number; duration: number },
    frame: Dimensions,
    dir: string,
  ): Promise<{ filters: string[]; renderer: CaptionRenderer }> {
    const words = wordsInWindow(request.words, window.start, window.duration);
    const renderer = await captionRenderer();
    if (renderer === 'ass') {
      const script = join(dir, 'captions.ass');
      await writeFile(script, buildAssScript(words, { style: request.style, frame, fontFamily: fonts.family }));
      return { filters: words.length ? [filter('ass', { filename: script, fontsdir: fonts.dir })] : [], renderer };
    }
    const { filters, files } = drawtextCaptionFilters(words, {
      style: request.style,
      frame,
      fontFile: (bold) => (bold ? fonts.bold : fonts.regular),
      textDir: dir,
    });
    await Promise.all(files.map((file) => writeFile(join(dir, file.name), file.content)));
    return { filters, renderer };
  }

  async function renderClip(request: RenderClipRequest, operation: OperationOptions = {}): Promise<RenderClipResult> {
    throwIfAborted(operation.signal);
    const source = await probeMedia(request.input);
    requireVideo(source);
    const window = clipWindow(request, source);
    const frame = request.aspectRatio ? dimensionsFor(request.aspectRatio, request.shortSide ?? 1080) : source;
    const outputExtension = extname(request.output).toLowerCase() || '.mp4';
    const copyable =
      !request.aspectRatio &&
      !request.captions &&
      ['.mp4', '.mov'].includes(outputExtension) &&
      COPYABLE_VIDEO.has(source.videoCodec ?? '') &&
      (source.audioCodec === null || COPYABLE_AUDIO.has(source.audioCodec));
    const startKeyframe = copyable ? await keyframeAt(request.input, source, window.start, operation.signal) : undefined;
    const seek = startKeyframe ? copySeek(startKeyframe, source, window.start) : reencodeSeek(window.start);

    return inTempDir(async (dir) => {
      const videoFilters = request.aspectRatio ? reframeFilters(frame, request.fit ?? 'crop') : [];
      const captions = request.captions ? await captionFilters(request.captions, window, frame, dir) : undefined;
      videoFilters.push(...(captions?.filters ?? []));

      const tempOutput = join(dir, `clip${outputExtension}`);
      const command = newCommand()
        .input(request.input)
        .inputOptions(['-nostdin', ...seek.input])
        .output(tempOutput)
        .outputOptions([
          '-map',
          '0:v:0',
          '-map',
          '0:a:0?',
          ...seek.output,
          '-t',
          seconds(window.duration),
          ...(startKeyframe ? ['-c', 'copy', '-avoid_negative_ts', 'make_zero'] : REENCODE_OPTIONS),
          ...(videoFilters.length ? ['-vf', videoFilters.join(',')] : []),
          ...(['.mp4', '.mov'].includes(outputExtension) ? ['-movflags', '+faststart'] : []),
        ]);
      await runFfmpeg(command, { ...operation, expectedSeconds: window.duration, killGraceMs, ...cpuOf('render_clip') });
      const media = await probeMedia(tempOutput);
      await moveIntoPlace(tempOutput, request.output);
      return { mode: startKeyframe ? 'copy' : 'reencode', media, ...(captions ? { captionRenderer: captions.renderer } : {}) };
    });
  }

  async function writeImage(
    command: FfmpegCommand,
    request: { output: string; format?: ImageFormat },
    size: Dimensions,
    videoFilters: string[],
    dir: string,
    signal: AbortSignal | undefined,
  ): Promise<ImageResult> {
    const format = imageFormatOf(request.output, request.format);
    const tempOutput = join(dir, format === 'png' ? 'image.png' : 'image.jpg');
    command
      .output(tempOutput)
      .outputOptions([
        '-frames:v',
        '1',
        ...(videoFilters.length ? ['-vf', videoFilters.join(',')] : []),
        ...(format === 'jpeg' ? ['-q:v', '2'] : []),
      ]);
    await runFfmpeg(command, { signal, expectedSeconds: 0, killGraceMs, ...cpuOf('write_image') });
    const sizeBytes = await stat(tempOutput).then(
      (s) => s.size,
      () => 0,
    );
    // ffmpeg exits 0 when a seek lands past the last decodable frame and nothing is written.
    if (sizeBytes === 0) throw new FfmpegFailedError('ffmpeg wrote no image', '');
    await moveIntoPlace(tempOutput, request.output);
    return { path: request.output, format, ...size, sizeBytes };
  }

  /** The latest seek position that still decodes a frame. */
  const frameTime = (source: MediaInfo, at: number) => Math.max(0, Math.min(at, source.durationSeconds - 2 / (source.fps || 25)));

  async function extractFrame(request: ExtractFrameRequest, operation: Pick<OperationOptions, 'signal'> = {}): Promise<ImageResult> {
    throwIfAborted(operation.signal);
    imageFormatOf(request.output, request.format);
    const source = await probeMedia(request.input);
    requireVideo(source);
    if (!Number.isFinite(request.atSeconds) || request.atSeconds < 0)
      throw new MediaRequestError(`invalid frame time ${request.atSeconds}`);
    const size = request.width
      ? { width: even(request.width), height: even((request.width * source.height) / source.width) }
      : { width: source.width, height: source.height };
    return inTempDir(async (dir) => {
      const command = newCommand()
        .input(request.input)
        .inputOptions(['-nostdin', '-ss', seconds(frameTime(source, request.atSeconds))]);
      const scale = request.width ? [filter('scale', { w: size.width, h: size.height })] : [];
      return writeImage(command, request, size, scale, dir, operation.signal);
    });
  }

  async function composeThumbnail(request: ThumbnailRequest, operation: Pick<OperationOptions, 'signal'> = {}): Promise<ImageResult> {
    throwIfAborted(operation.signal);
    imageFormatOf(request.output, request.format);
    const size = THUMBNAIL_SIZES[request.aspectRatio];
    const { background } = request;
    const command = newCommand();
    const videoFilters: string[] = [];
    switch (background.kind) {
      case 'frame': {
        const source = await probeMedia(background.video);
        requireVideo(source);
        command.input(background.video).inputOptions(['-nostdin', '-ss', seconds(frameTime(source, background.atSeconds))]);
        videoFilters.push(...coverFilters(size));
        const dim = Math.min(1, Math.max(0, background.dim ?? 0));
        if (dim > 0) {
          const keep = (1 - dim).toFixed(3);
          videoFilters.push(filter('format', { pix_fmts: 'rgb24' }), filter('colorchannelmixer', { rr: keep, gg: keep, bb: keep }));
        }
        break;
      }
      case 'color':
        command
          .input(filter('color', { c: ffmpegColor(background.color), s: `${size.width}x${size.height}`, d: 1 }))
          .inputFormat('lavfi')
          .inputOptions(['-nostdin']);
        break;
      case 'gradient': {
        const gradient = gradientSource(background.from, background.to, background.direction ?? 'vertical', size);
        command.input(gradient.source).inputFormat('lavfi').inputOptions(['-nostdin']);
        videoFilters.push(...gradient.filters);
        break;
      }
    }
    return inTempDir(async (dir) => {
      if (request.text) {
        const layout = layoutThumbnailText(request.text, size);
        const lineFile = (i: number) => join(dir, `line-${i}.txt`);
        await Promise.all(layout.lines.map((line, i) => writeFile(lineFile(i), line)));
        const font = (request.text.weight ?? 'bold') === 'bold' ? fonts.bold : fonts.regular;
        videoFilters.push(...thumbnailTextFilters(request.text, layout, lineFile, font));
      }
      return writeImage(command, request, size, videoFilters, dir, operation.signal);
    });
  }

  /** One ffmpeg pass: the decoded image is split once per tile and each copy cropped to its cell. */
  async function splitGrid(request: SplitGridRequest, operation: Pick<OperationOptions, 'signal'> = {}): Promise<ImageResult[]> {
    throwIfAborted(operation.signal);
    const { columns, rows, outputs } = request;
    if (!Number.isInteger(columns) || !Number.isInteger(rows) || columns < 1 || rows < 1 || outputs.length !== columns * rows)
      throw new MediaRequestError(`a ${columns}×${rows} grid needs ${columns * rows} outputs, got ${outputs.length}`);
    const formats = outputs.map((output) => imageFormatOf(output, undefined));
    const source = await probeImageSize(request.input);
    const tile = { width: Math.floor(source.width / columns), height: Math.floor(source.height / rows) };
    if (tile.width < 1 || tile.height < 1) throw new InvalidMediaError(`a ${source.width}x${source.height} image is too small to split`);
    return inTempDir(async (dir) => {
      const temp = outputs.map((_, i) => join(dir, `tile-${i}.${formats[i] === 'png' ? 'png' : 'jpg'}`));
      const crops = outputs.map((_, i) => {
        const cell = { x: (i % columns) * tile.width, y: Math.floor(i / columns) * tile.height };
        return `[t${i}]${filter('crop', { w: tile.width, h: tile.height, ...cell })}[o${i}]`;
      });
      const command = newCommand()
        .input(request.input)
        .inputOptions(['-nostdin'])
        .complexFilter([`[0:v]split=${outputs.length}${outputs.map((_, i) => `[t${i}]`).join('')}`, ...crops]);
      temp.forEach((file, i) =>
        command.output(file).outputOptions(['-map', `[o${i}]`, '-frames:v', '1', ...(formats[i] === 'jpeg' ? ['-q:v', '2'] : [])]),
      );
      await runFfmpeg(command, { signal: operation.signal, expectedSeconds: 0, killGraceMs, ...cpuOf('split_grid') });
      return Promise.all(
        temp.map(async (file, i) => {
          const sizeBytes = await stat(file).then(
            (s) => s.size,
            () => 0,
          );
          if (sizeBytes === 0) throw new FfmpegFailedError(`ffmpeg wrote no tile ${i}`, '');
          await moveIntoPlace(file, outputs[i]!);
          return { path: outputs[i]!, format: formats[i]!, ...tile, sizeBytes };
        }),
      );
    });
  }

  return { binaries, fonts, probe: probeMedia, renderClip, extractFrame, composeThumbnail, splitGrid, captionRenderer };
}
