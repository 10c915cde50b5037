import { extname } from 'node:path';

/**
 * What a video source may be called and typed as, shared by the API's intake checks and the
 * ingest download (which meets a URL's real answer only in the run).
 */
const VIDEO_EXTENSIONS = new Set(['.mp4', '.m4v', '.mov', '.webm', '.mkv', '.avi', '.mpg', '.mpeg', '.ts']);
/** Browsers, curl and file servers send these for a video whose type they cannot name; ffprobe decides then. */
const GENERIC_TYPES = new Set(['application/octet-stream', 'binary/octet-stream']);

/** The media type without parameters, lower-cased (`Video/MP4; codecs=…` → `video/mp4`). */
export const bareMediaType = (contentType: string | null | undefined): string => (contentType ?? '').split(';')[0]!.trim().toLowerCase();

/** A video type, or a generic binary type left for ffprobe to judge. */
export const isAcceptedVideoType = (mediaType: string): boolean => mediaType.startsWith('video/') || GENERIC_TYPES.has(mediaType);

/** A temp-file name keeping a known video extension of `filename` (ffprobe and the store like one). */
export const sourceFileName = (filename: string): string => {
  const extension = extname(filename).toLowerCase();
  return `source${VIDEO_EXTENSIONS.has(extension) ? extension : '.video'}`;
};
