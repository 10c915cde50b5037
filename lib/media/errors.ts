/**
 * Typed failures of the media toolkit. `type` is what an activity passes to
 * `ApplicationFailure.nonRetryable(message, type)` when retrying cannot help.
 */
export abstract class MediaError extends Error {
  abstract readonly type: string;
  /** Whether running the same operation again could succeed. */
  abstract readonly retryable: boolean;
}

/** A failure that running the same operation again cannot fix. */
const permanentMediaError = (name: string, type: string) =>
  class extends MediaError {
    override name = name;
    readonly type = type;
    readonly retryable = false;
  };

/** The input is not a readable video/audio file (missing, truncated, not media, no video stream). */
export class InvalidMediaError extends permanentMediaError('InvalidMediaError', 'InvalidMedia') {}

/** The request itself is wrong: a clip outside the video, an unknown colour, an empty text. */
export class MediaRequestError extends permanentMediaError('MediaRequestError', 'InvalidInput') {}

/** No usable ffmpeg/ffprobe binary or font could be found. */
export class MediaToolMissingError extends permanentMediaError('MediaToolMissingError', 'MediaToolMissing') {}

/** ffmpeg ran and failed; `stderrTail` holds its last lines for the log (never for the user). */
export class FfmpegFailedError extends MediaError {
  override name = 'FfmpegFailedError';
  readonly type = 'MediaProcessingFailed';
  readonly retryable = true;
  constructor(
    message: string,
    readonly stderrTail: string,
  ) {
    super(message);
  }
}

/**
 * The caller's AbortSignal fired; ffmpeg has exited by the time this is thrown. `cause` is the
 * signal's reason (for a Temporal activity, its CancelledFailure), so callers can rethrow it.
 */
export class MediaAbortError extends Error {
  override name = 'AbortError';
  constructor(reason: unknown) {
    super('media operation aborted', { cause: reason });
  }
}
