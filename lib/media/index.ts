/**
 * The media toolkit: the one place that runs ffmpeg (through fluent-ffmpeg, archived upstream,
 * so nothing else imports it). Activities create one toolkit per worker and pass each
 * operation an AbortSignal and a progress callback for heartbeats.
 */
export { createMediaToolkit } from './toolkit';
export type {
  CaptionRenderer,
  ExtractFrameRequest,
  ImageFormat,
  ImageResult,
  MediaToolkit,
  MediaToolkitOptions,
  RenderClipRequest,
  RenderClipResult,
  SplitGridRequest,
  ThumbnailRequest,
} from './toolkit';
export { resolveMediaBinaries, resolveMediaFonts } from './binaries';
export type { BinarySource, MediaBinaries, MediaFonts, ResolvedBinary } from './binaries';
export type { MediaInfo } from './probe';
export type { MediaProgress, OperationOptions } from './run-ffmpeg';
export { ASPECT_RATIOS, dimensionsFor } from './filters';
export type { AspectRatio, Dimensions, FitMode } from './filters';
export { CAPTION_STYLE_NAMES, SUBTITLE_CUE_LIMITS, buildAssScript, groupIntoCues, toSrt, toWebVtt, wordsInWindow } from './captions';
export type { CaptionCue, CaptionStyleName, CaptionWord, CueLimits } from './captions';
export { THUMBNAIL_SIZES } from './thumbnail-layout';
export type { ThumbnailAspectRatio, ThumbnailBackground, ThumbnailText } from './thumbnail-layout';
export { FfmpegFailedError, InvalidMediaError, MediaAbortError, MediaError, MediaRequestError, MediaToolMissingError } from './errors';
